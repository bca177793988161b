"""Running a functional experiment: :meth:`run`, :meth:`execute`, :meth:`run_if_main` and the run itself.

Every way in builds a :class:`~runlab.request.RunRequest` (``run(**overrides)``, a plain
``python exp.py --LR=0.1``, or the request ``runlab run`` / :func:`runlab.execute` left
pending for the file) and :meth:`_execute` runs it.

A run goes through :class:`~runlab.experiment.RunDriver` like every style's: the run is
created (``analysis.py`` and copies of base, mixin and config files are written), started,
then in testing mode the ``@experiment.testing`` functions run, then the ``before_run``
hooks, the main function and the ``after_run`` hooks; the driver ends the run with the
state for what happened, and the user's exception propagates afterwards.
"""

from __future__ import annotations

import inspect
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ParameterError, UsageError, ValidationError
from ..lifecycle import Run
from ..params import parse_overrides
from ..store._api import get_store
from ._base import DEFAULT_NAME_FORMAT, SAFE_NAME, ExperimentBase, _actionable
from ._driver import RunDriver
from ._hooks import describe_hooks
from ._pending import PendingRequest, current_pending
from ._request import Origin, RunRequest, RunResult, Target

__all__ = ["ExperimentRunner"]


class ExperimentRunner(ExperimentBase):
    """The running part of :class:`runlab.Experiment`."""

    # -- running ----------------------------------------------------------------------
    def run(self, overrides: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Run:
        """Run the experiment now with parameter overrides; returns the finished run.

        The user's exception propagates once the run is recorded as failed (cancelled for
        Ctrl-C).

        Raises:
            ParameterError: an unknown parameter or a value of the wrong type (no run is made).
            ValidationError: no main function was registered with ``@experiment``.
        """
        result = self.execute(self.request({**dict(overrides or {}), **kwargs}, via="Experiment.run"))
        if result.exception is not None:
            raise result.exception
        assert result.run is not None
        return result.run

    def request(self, params: Mapping[str, Any] | None = None, *, via: str = "api", **changes: Any) -> RunRequest:
        """A :class:`~runlab.request.RunRequest` for a run of this experiment with ``params`` over its defaults.

        The values are validated here (unknown names and wrong types raise
        :class:`~runlab.ParameterError`); ``changes`` are further ``RunRequest`` fields
        (``options=``, ``links=``). Such a request runs here with :meth:`execute`, or in
        another process with :func:`runlab.execute` when the experiment has a file.
        """
        self._refresh()
        config = self._config_path
        path = self.source_file
        target = Target("config", config) if config is not None else Target("functional", path)
        values = self._coerce_overrides(dict(params or {}))
        changes.setdefault("origin", Origin(via))
        return RunRequest(target, values, **changes)

    def execute(self, request: RunRequest) -> RunResult:
        """Run ``request`` with this experiment object (its parameters validated again, cheaply).

        Returns the result also when the user's code failed (``result.exception`` holds the
        error); raises only for bad input, before any run exists.
        """
        self._refresh()
        request = request.with_params(self._coerce_overrides(request.params))
        return self._execute(request)

    def run_if_main(self) -> Run | None:
        """Run when the module is executed as a script; returns the run (None when imported).

        ``python exp.py --LEARNING_RATE=0.1 --__DEBUG__=true`` sets parameters; ``--help``
        lists them. A bad override prints one line and exits with status 2. Under
        ``runlab run`` (or :func:`runlab.execute`) the request's values, overrides and
        options apply and errors propagate.
        """
        if self.glob.get("__name__") != "__main__":
            return None
        waiting = current_pending()
        if waiting is not None and not waiting.claimed:
            waiting.claimed = True
            return self._claim(waiting)
        argv = sys.argv[1:]
        if "--help" in argv or "-h" in argv:
            print(self.help_text())
            raise SystemExit(0)
        try:
            self._refresh()
            overrides = parse_overrides(argv, self._defs)
            request = self.request(overrides, origin=Origin("run_if_main", tuple(argv)))
            self._plan(request)
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        result = self._execute(request)
        if result.exception is not None:
            raise result.exception
        return result.run

    def _claim(self, waiting: PendingRequest) -> Run:
        """Run the pending request: its values validated, the command line's overrides parsed (once)."""
        self._refresh()
        request = waiting.request
        values = self._coerce_overrides(request.params)
        if waiting.argv:
            values.update(parse_overrides(list(waiting.argv), self._defs))
        result = self._execute(request.with_params(values))
        waiting.results.append(result)
        if result.exception is not None:
            raise result.exception
        assert result.run is not None
        return result.run

    def _plan(self, request: RunRequest) -> dict[str, Any]:
        """Check everything a run needs before anything is created; returns Run.create's arguments."""
        if self.func is None:
            raise ValidationError(
                f"{self.file or 'The experiment'} has no main function: decorate one with @experiment "
                "(def main(e): ...)."
            )
        overrides = request.params
        opts = request.options
        merged = {**self._defaults, **overrides}
        values = {n: merged[n] for n in sorted(merged, key=lambda n: n.startswith("__"))}  # special ones last
        if self.debug and "__DEBUG__" not in overrides:  # experiment.debug = True after construction
            values["__DEBUG__"] = True
        debug = bool(values.get("__DEBUG__"))
        prefix = str(values.get("__PREFIX__") or "")
        if not SAFE_NAME.match(prefix):
            raise ParameterError(
                f"Invalid value for '__PREFIX__': {prefix!r}; use letters, digits, '_', '-' and '.' (it starts the "
                "run folder's name).",
                "__PREFIX__",
            )
        name = opts.name or self.run_name
        if prefix and name:
            name = f"{prefix}_{name}"
        if debug:
            folder: str | None = "debug"
        else:
            pattern = f"{prefix}_{self.name_format}" if prefix else self.name_format
            folder = None if pattern == DEFAULT_NAME_FORMAT else pattern
        tags = [
            *self.tags,
            *opts.tags,
            *(["debug"] if debug else []),
            *(["testing"] if values.get("__TESTING__") else []),
        ]
        source = self.source_file
        recorded = {**request.recorded, **values}
        origin = request.record_origin()
        origin["path"] = str(source) if source else None
        origin["config"] = str(self._config_path) if self._config_path else None
        return {
            "namespace": opts.namespace or self.namespace,
            "name": name,
            "params": recorded,
            "param_info": {n: self._info(self._defs[n], v) for n, v in recorded.items() if n in self._defs},
            "tags": list(dict.fromkeys(tags)),
            "description": opts.description if opts.description is not None else self.description,
            "experiment": self.experiment_name,
            "source": source,
            "links": request.links.to_dict(),
            "origin": origin,
            "folder_name": folder,
            "hooks": describe_hooks(self.hook_entries()),
            "capture": opts.capture,
            "reproducible": opts.reproducible or bool(values.get("__REPRODUCIBLE__")),
        }

    def _execute(self, request: RunRequest) -> RunResult:
        if self._archive is not None:
            raise ValidationError(f"{self._archive} is an archived run; it cannot run again (use 'runlab rerun').")
        if self._active is not None:
            raise ValidationError("This experiment is already running a run; one experiment object runs one at a time.")
        create = self._plan(request)
        values: dict[str, Any] = {n: v for n, v in create["params"].items() if n not in request.recorded}
        root = request.options.root
        store = get_store(root if root is not None else self.root)
        driver = RunDriver(self, store)
        run = driver.initialize(**create)
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_active", dict(values))
        object.__setattr__(self, "_track_steps", {})
        self._write_files(run)
        saved = self._patch_globals(values)
        error: BaseException | None = None
        result: Any = None
        try:
            driver.start(testing=bool(values.get("__TESTING__")))
        except BaseException:
            self._finish(saved)
            raise
        try:
            self.log(f"run {run.id} of {self.experiment_name or 'experiment'} started in {run.path}")
            if values.get("__TESTING__"):
                for fn in self._testing:
                    fn(self)
            if values.get("__REPRODUCIBLE__"):
                self._package()
            self.apply_hook("before_run", run=run)
            assert self.func is not None
            result = self._call_main()
            self.apply_hook("after_run", run=run, result=result)
        except BaseException as exc:
            error = exc
        finally:
            self._restore_globals(saved)
        try:
            driver.end(error, result=result)
        finally:
            self._finish(None)
        return RunResult.of(run, result, error if error is not None else driver.error)

    def _call_main(self) -> Any:
        """Call the main function; a coroutine function runs to its end with :func:`asyncio.run`."""
        assert self.func is not None
        result = self.func(self)
        if inspect.iscoroutine(result):
            import asyncio

            result = asyncio.run(result)
        return result

    def _finish(self, saved: list[tuple[dict[str, Any], str, Any]] | None) -> None:
        if saved is not None:
            self._restore_globals(saved)
        object.__setattr__(self, "_active", None)

    def _patch_globals(self, values: Mapping[str, Any]) -> list[tuple[dict[str, Any], str, Any]]:
        """Set the run's values in the modules that define them, so code reading globals agrees with the record."""
        saved: list[tuple[dict[str, Any], str, Any]] = []
        for glob in self._globs:
            if not isinstance(glob, dict):
                continue
            for pname, value in values.items():
                if pname in glob and glob[pname] is not value:
                    saved.append((glob, pname, glob[pname]))
                    glob[pname] = value
        return saved

    @staticmethod
    def _restore_globals(saved: list[tuple[dict[str, Any], str, Any]]) -> None:
        for glob, pname, value in reversed(saved):
            glob[pname] = value
        saved.clear()

    def _package(self) -> None:
        """Reproducible mode: let actionable parameters package their values into the run folder."""
        assert self._active is not None
        for pname, value in list(self._active.items()):
            param = self._defs.get(pname)
            if param is not None and _actionable(param.type):
                packaged = param.type.on_reproducible(self, value)
                if packaged is not value:
                    self._write(pname, packaged)

    def _write_files(self, run: Run) -> None:
        """analysis.py and copies of the base, mixin and config files the run also depends on."""
        from ._archive import write_analysis

        try:
            files = [*self._files, *(m.path for m in self._included if m.path is not None)]
            code = run.path / "code"
            extra = [*files, *([self._config_path] if self._config_path else [])]
            if extra:
                code.mkdir(exist_ok=True)
            for file in extra:
                if file != self.source_file and file.is_file() and not (code / file.name).exists():
                    shutil.copy2(file, code / file.name)
            sources = [self.file] if self.file is not None else []
            sources += [Path(f.__code__.co_filename) for f in self._analyses if hasattr(f, "__code__")]
            write_analysis(run.path, run.metadata, self._analyses, list(dict.fromkeys(sources)), self.source_file)
        except OSError as exc:  # a missing copy must not stop the experiment
            print(f"runlab: could not write analysis.py or code copies for run {run.id}: {exc}", file=sys.stderr)
