"""Running a functional experiment: :meth:`run`, :meth:`execute_request`, :meth:`run_if_main` and the run itself.

Every way in builds a :class:`~runlab.request.RunRequest` (``run(**overrides)``, a plain
``python exp.py --LR=0.1``, or the request ``runlab run`` / :func:`runlab.execute` left
pending for the file) and :meth:`_execute` runs it in three phases: :meth:`open` (create and
start the run), :meth:`body` (the user's code) and :meth:`close` (end it). PyComex's public
``initialize()`` / ``execute()`` / ``finalize()`` are these phases.

A run goes through :class:`~runlab.experiment.RunDriver` like every style's: the run is
created (``analysis.py`` and copies of base, mixin and config files are written), started,
then in testing mode the ``@experiment.testing`` functions run, then the ``before_run``
hooks, the main function and the ``after_run`` hooks; the driver ends the run with the
state for what happened, and the user's exception propagates afterwards.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExperimentContextError, ParameterError, UsageError, ValidationError
from ..lifecycle import Run
from ..store import RunStatus
from ..store._api import get_store
from ._caching import run_caching
from ._calls import run_to_end
from ._construction import include_param
from ._driver import RunDriver
from ._hooks import describe_hooks
from ._names import DEFAULT_NAME_FORMAT, SAFE_NAME, is_actionable
from ._pending import PendingRequest, current_pending
from ._request import Origin, RunRequest, RunResult, Target

if TYPE_CHECKING:
    from ._functional import Experiment

__all__ = ["ExperimentRunner", "OpenRun"]


class OpenRun:
    """A run between :meth:`ExperimentRunner.open` and :meth:`ExperimentRunner.close`.

    Not a value class: made once per run, never compared, and a value class's ``__init__`` is
    compiled as its module loads (~1 M instructions of every functional run's start-up).

    Attributes:
        driver: fires the run's hooks and ends it.
        run: the run (running).
        values: the run's parameter values.
        saved: module globals replaced by the run's values, restored when it closes.
    """

    __slots__ = ("driver", "run", "saved", "values")

    def __init__(self, driver: RunDriver, run: Run, values: dict[str, Any],
                 saved: list[tuple[dict[str, Any], str, Any]] | None = None) -> None:  # fmt: skip
        self.driver = driver
        self.run = run
        self.values = values
        self.saved = [] if saved is None else saved


class ExperimentRunner:
    """Runs a functional experiment: the running collaborator of :class:`runlab.Experiment`.

    Args:
        experiment: the experiment whose runs this makes (one at a time).
    """

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.opened: OpenRun | None = None
        """The run :meth:`initialize` started and :meth:`finalize` has not ended yet."""

    def request(self, params: Mapping[str, Any] | None = None, *, via: str = "api", **changes: Any) -> RunRequest:
        """See :meth:`runlab.Experiment.request`."""
        exp = self.experiment
        exp.refresh()
        config = exp.config_path
        path = exp.source_file
        target = Target("config", config) if config is not None else Target("functional", path)
        values = self.typed(params or {})
        changes.setdefault("origin", Origin(via))
        return RunRequest(target, values, **changes)

    def typed(self, params: Mapping[str, Any], argv: Sequence[str] = ()) -> dict[str, Any]:
        """``params`` validated and ``argv`` (``--NAME=VALUE`` ...) parsed against the experiment's parameters.

        An ``__INCLUDE__`` among them includes its mixins first (:func:`include_param`), so the
        mixins' parameters can be set beside it.

        Raises:
            ParameterError: an unknown name, a bad value or a missing mixin file.
        """
        exp = self.experiment
        include = params.get("__INCLUDE__")
        if argv:  # the override parser loads only for overrides
            from ..params import parse_overrides
        if any("__INCLUDE__" in arg for arg in argv):  # only its value is read here; argv is parsed below
            include = parse_overrides(list(argv), exp.params.defs, allow_new=True).get("__INCLUDE__", include)
        if include:
            include_param(exp, include)
        values = exp.params.coerce(params, exp.namespace)
        if argv:
            values.update(parse_overrides(list(argv), exp.params.defs))
        return values

    def execute_request(self, request: RunRequest) -> RunResult:
        """See :meth:`runlab.Experiment.execute_request`."""
        exp = self.experiment
        exp.refresh()
        return self._execute(request.with_params(self.typed(request.params)))

    def run_if_main(self) -> Run | None:
        """See :meth:`runlab.Experiment.run_if_main`."""
        exp = self.experiment
        if exp.glob.get("__name__") != "__main__":
            return None
        waiting = current_pending()
        if waiting is not None and not waiting.claimed:
            waiting.claimed = True
            return self._claim(waiting)
        argv = sys.argv[1:]
        if "--help" in argv or "-h" in argv:
            print(exp.help_text())
            raise SystemExit(0)
        try:
            exp.refresh()
            overrides = self.typed({}, argv)
            request = self.request(overrides, origin=Origin("run_if_main", tuple(argv)))
            self.plan(request)
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        result = self._execute(request)
        if result.exception is not None:
            raise result.exception
        if result.status in (RunStatus.FAILED, RunStatus.CANCELLED):  # runlab.fail() / cancel() in the code
            print(f"run {result.run_id} {result.status.value}: {result.error}", file=sys.stderr)
            raise SystemExit(130 if result.status is RunStatus.CANCELLED else 1)
        return result.run

    def help_text(self) -> str:
        """What ``python exp.py --help`` prints: usage, description and every parameter."""
        exp = self.experiment
        exp.refresh()
        prog = exp.file.name if exp.file else "experiment.py"
        lines = [f"usage: python {prog} [--NAME=VALUE ...]", ""]
        if exp.description:
            lines += [exp.description, ""]
        lines += exp.params.help_lines(exp.console_width)
        lines.append("Also: -p NAME=VALUE, --set NAME.key=VALUE for one item of a dict parameter.")
        return "\n".join(lines)

    def _claim(self, waiting: PendingRequest) -> Run:
        """Run the pending request: its values validated, the command line's overrides parsed (once)."""
        exp = self.experiment
        exp.refresh()
        request = waiting.request
        values = self.typed(request.params, waiting.argv)
        result = self._execute(request.with_params(values))
        waiting.results.append(result)
        if result.exception is not None:
            raise result.exception
        assert result.run is not None
        return result.run

    def plan(self, request: RunRequest, *, need_main: bool = True) -> dict[str, Any]:
        """Check everything a run needs before anything is created; returns Run.create's arguments."""
        exp = self.experiment
        if need_main:
            self._check_main()
        overrides = request.params
        opts = request.options
        merged = {**exp.params.defaults, **overrides}
        values = {n: merged[n] for n in sorted(merged, key=lambda n: n.startswith("__"))}  # special ones last
        debug = bool(values.get("__DEBUG__"))
        prefix = str(values.get("__PREFIX__") or "")
        if not SAFE_NAME.match(prefix):
            raise ParameterError(
                f"Invalid value for '__PREFIX__': {prefix!r}; use letters, digits, '_', '-' and '.' (it starts the "
                "run folder's name).",
                "__PREFIX__",
            )
        name = opts.name or exp.run_name
        if prefix and name:
            name = f"{prefix}_{name}"
        if debug:
            folder: str | None = "debug"
        elif exp.run_name and SAFE_NAME.match(exp.run_name):  # PyComex: Experiment(name=...) names the folder
            taken = (get_store(opts.root if opts.root is not None else exp.root).root
                     / (opts.namespace or exp.namespace or "default") / exp.run_name).exists()  # fmt: skip
            folder = f"{exp.run_name}__{{id}}" if taken else exp.run_name
        else:
            pattern = f"{prefix}_{exp.name_format}" if prefix else exp.name_format
            folder = None if pattern == DEFAULT_NAME_FORMAT else pattern
        tags = [
            *exp.tags,
            *opts.tags,
            *(["debug"] if debug else []),
            *(["testing"] if values.get("__TESTING__") else []),
        ]
        source = exp.source_file
        recorded = {**request.recorded, **values}
        origin = request.record_origin()
        origin["path"] = str(source) if source else None
        origin["config"] = str(exp.config_path) if exp.config_path else None
        return {
            "namespace": opts.namespace or exp.namespace,
            "name": name,
            "params": recorded,
            "param_info": exp.params.describe(recorded),
            "tags": list(dict.fromkeys(tags)),
            "description": opts.description if opts.description is not None else exp.description,
            "experiment": exp.experiment_name,
            "source": source,
            "links": request.links.to_dict(),
            "origin": origin,
            "folder_name": folder,
            "hooks": describe_hooks(exp.hook_entries()),
            "capture": opts.capture,
            "reproducible": opts.reproducible or bool(values.get("__REPRODUCIBLE__")),
            "resume": opts.resume or exp.resume,
        }

    def _execute(self, request: RunRequest) -> RunResult:
        state = self.open(request)
        result, error = self.body(state)
        return self.close(state, error, result)

    # -- the three phases of a run (PyComex: initialize, the main code, finalize) --------
    def open(self, request: RunRequest, *, need_main: bool = True) -> OpenRun:
        """Create and start the run of ``request``: its folder and record exist, its values are the
        experiment's (``e.PARAM``) and the modules' globals until :meth:`close`.

        Raises:
            ValidationError: an archived run, a run already in progress, or no main function.
            ParameterError: a bad special parameter (no run is made).
        """
        exp = self.experiment
        if exp.archive is not None:
            raise ValidationError(f"{exp.archive} is an archived run; it cannot run again (use 'runlab rerun').")
        if exp.params.active is not None:
            raise ValidationError("This experiment is already running a run; one experiment object runs one at a time.")
        create = self.plan(request, need_main=need_main)
        values: dict[str, Any] = {n: v for n, v in create["params"].items() if n not in request.recorded}
        root = request.options.root
        store = get_store(root if root is not None else exp.root)
        driver = RunDriver(exp, store)
        run = driver.initialize(**create)
        exp.current_run = run
        exp.params.active = dict(values)
        exp.recorder.steps = {}
        self._write_files(run)
        saved = self._patch_globals(values)
        try:
            driver.start(testing=bool(values.get("__TESTING__")))
        except BaseException:
            self._finish(saved)
            raise
        exp.log(f"run {run.id} of {exp.experiment_name or 'experiment'} started in {run.path}")
        return OpenRun(driver, run, values, saved)

    def body(self, state: OpenRun) -> tuple[Any, BaseException | None]:
        """Testing functions (``__TESTING__``), ``before_run`` hooks, the main function, ``after_run`` hooks.

        Returns the main function's result and the error that stopped it (None when it returned).
        """
        exp = self.experiment
        values = state.values
        result: Any = None
        try:
            if values.get("__TESTING__"):
                for fn in exp.testing_functions:
                    fn(exp)
            if values.get("__REPRODUCIBLE__"):
                self._package()
            exp.apply_hook("before_run", run=state.run)
            with run_caching(bool(values.get("__CACHING__", True))):  # False: cached functions compute again
                result = self._call_main()
            exp.apply_hook("after_run", run=state.run, result=result)
        except BaseException as exc:
            return result, exc
        return result, None

    def close(self, state: OpenRun, error: BaseException | None, result: Any = None) -> RunResult:
        """End the run: completed, or failed / cancelled for ``error``; the modules' globals are restored."""
        self._restore_globals(state.saved)
        try:
            state.driver.end(error, result=result)
        finally:
            self._finish(None)
        return RunResult.of(state.run, result, state.driver.error)  # None after runlab.fail() & co.

    # -- PyComex's public initialize / execute / finalize ----------------------------------
    def initialize(self, params: Mapping[str, Any]) -> Run:
        """See :meth:`runlab.Experiment.initialize`."""
        if self.opened is not None:
            raise ExperimentContextError(
                f"Run {self.opened.run.id} is already initialized: finalize() it (or execute() it) first."
            )
        self.opened = self.open(self.request(params, via="Experiment.initialize"), need_main=False)
        return self.opened.run

    def execute_main(self) -> Run:
        """See :meth:`runlab.Experiment.execute`."""
        self._check_main()  # without one, an initialized run stays open
        state = self.opened or self.open(self.request({}, via="Experiment.execute"))
        self.opened = None
        result, error = self.body(state)
        outcome = self.close(state, error, result)
        if outcome.exception is not None:
            raise outcome.exception
        assert outcome.run is not None
        return outcome.run

    def finalize(self, error: BaseException | None = None) -> Run:
        """See :meth:`runlab.Experiment.finalize`."""
        state = self.opened
        if state is None:
            last = self.experiment.current_run
            if last is not None and last.status != "running":
                return last  # execute() finalized it already
            raise ExperimentContextError("Nothing to finalize: start a run with experiment.initialize() first.")
        self.opened = None
        outcome = self.close(state, error)
        assert outcome.run is not None
        return outcome.run

    def _check_main(self) -> None:
        exp = self.experiment
        if exp.func is None:
            raise ValidationError(
                f"{exp.file or 'The experiment'} has no main function: decorate one with @experiment "
                "(def main(e): ...)."
            )

    def _call_main(self) -> Any:
        """Call the main function; a coroutine or generator function runs to its end (:func:`run_to_end`)."""
        exp = self.experiment
        assert exp.func is not None
        return run_to_end(exp.func, exp.func(exp))

    def _finish(self, saved: list[tuple[dict[str, Any], str, Any]] | None) -> None:
        if saved is not None:
            self._restore_globals(saved)
        self.experiment.params.active = None

    def _patch_globals(self, values: Mapping[str, Any]) -> list[tuple[dict[str, Any], str, Any]]:
        """Set the run's values in the modules that define them, so code reading globals agrees with the record."""
        saved: list[tuple[dict[str, Any], str, Any]] = []
        for glob in self.experiment.globs:
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
        exp = self.experiment
        assert exp.params.active is not None
        for pname, value in list(exp.params.active.items()):
            param = exp.params.defs.get(pname)
            if param is not None and is_actionable(param.type):
                packaged = param.type.on_reproducible(exp, value)
                if packaged is not value:
                    setattr(exp, pname, packaged)

    def _write_files(self, run: Run) -> None:
        """analysis.py and copies of the base, mixin and config files the run also depends on."""
        from ._archive import write_analysis

        exp = self.experiment
        try:
            files = [*exp.files, *(m.path for m in exp.included if m.path is not None)]
            code = run.path / "code"
            extra = [*files, *([exp.config_path] if exp.config_path else [])]
            if extra:
                code.mkdir(exist_ok=True)
            for file in extra:
                if file != exp.source_file and file.is_file() and not (code / file.name).exists():
                    shutil.copy2(file, code / file.name)
            sources = [exp.file] if exp.file is not None else []
            sources += [Path(f.__code__.co_filename) for f in exp.analyses if hasattr(f, "__code__")]
            write_analysis(run.path, run.metadata, exp.analyses, list(dict.fromkeys(sources)), exp.source_file)
        except OSError as exc:  # a missing copy must not stop the experiment
            print(f"runlab: could not write analysis.py or code copies for run {run.id}: {exc}", file=sys.stderr)
