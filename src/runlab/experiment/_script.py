"""Plain scripts (KohakuEngine style): run any ``.py`` file with injected globals as one run.

The execution model of :func:`run_script` (and :meth:`ScriptExecutor.execute`), per config:
the script is parsed (syntax errors, a missing entry point and protected names are reported
before any run exists); a run starts through :class:`~runlab.experiment.RunDriver` with the
script's literal defaults (:func:`script_params`) updated with the injected globals as its
parameters; a copy of the script's tree without its top-level assignments to the injected
names and its main blocks runs as ``__main__`` (:mod:`runlab.experiment._loader`); then the
entry point (:mod:`runlab.experiment._entrypoint`) or the main block runs, and its return
value is the run's result. ``with runlab.run()`` blocks inside the script join the run.

Example:
    >>> import pathlib, tempfile, runlab
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "hello.py").write_text(
    ...     "name = 'World'\\n"
    ...     "def main(excited=False):\\n"
    ...     "    return f'Hello, {name}' + ('!' if excited else '')\\n"
    ...     "if __name__ == '__main__':\\n"
    ...     "    main()\\n")
    >>> config = runlab.Config(globals_dict={"name": "runlab"}, kwargs={"excited": True})
    >>> run = runlab.run_script(folder / "hello.py", config, root=folder / "runs", capture=False)
    >>> run.status, run.params["name"], run.data["result"]
    ('completed', 'runlab', 'Hello, runlab!')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import field
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any, overload

from .._valueclass import value_class
from ..errors import ValidationError
from ..hooks import get_registry
from ..hooks._specs import BEFORE_EXPERIMENT_PARAMETERS, EXPERIMENT_CONSTRUCTED
from ..lifecycle import Run
from ..lifecycle._values import to_json_value
from ..params import Config, ConfigGenerator, Param
from ..store import RunStatus
from ..store._api import get_store
from ..store._files import dumps_light
from ..store._store import Store, namespace_of
from ._driver import EndRun, RunDriver
from ._entrypoint import ScriptInfo, analyse, bindable, call_entrypoint, check_static, find_entrypoint
from ._loader import (
    SINK,
    check_inject,
    check_python_file,
    compile_tree,
    loaded_module,
    parse_file,
    prepare_tree,
    split_target,
)
from ._request import Links, Origin, RunOptions, RunRequest, RunResult, Target
from ._result import record_result_metrics
from ._script_params import check_call, function_params, is_dunder, script_param_parts, script_params

__all__ = ["Script", "ScriptConfig", "ScriptExecutor", "function_params", "script_params"]

ScriptConfig = Config | Mapping[str, Any] | ConfigGenerator | Iterable[Config] | str | os.PathLike[str] | None
"""What ``config`` may be: a :class:`Config`, a dict of globals, several configs, or a config file."""


def _as_config(value: Any, where: str) -> Config:
    if isinstance(value, Config):
        return value
    if isinstance(value, Mapping):
        return Config(globals_dict=dict(value))
    raise ValidationError(
        f"Invalid config {value!r} in {where}: expected a runlab.Config or a dict of globals such as "
        "{'learning_rate': 0.1}."
    )


def _jsonable(value: Any) -> bool:
    """Whether ``value`` can be written as JSON and read back (no integer beyond 64 bits, no lone surrogate)."""
    try:
        dumps_light(value, indent=False)
        to_json_value(value)
    except (TypeError, ValueError):  # DataError is both
        return False
    return True


@value_class
class Script:
    """A plain Python script to run as an experiment, checked when created.

    Attributes:
        path: the ``.py`` file; ``"train.py:fit"`` names the entry point too.
        config: the default config (see :data:`ScriptConfig`); ``None`` injects nothing.
        entrypoint: the function to call (discovered when None; see :mod:`runlab.experiment._entrypoint`).
        run_as_main: run with ``__name__ == "__main__"`` (else the module is named after the file).

    Raises:
        ExperimentNotFoundError: the file does not exist.
        ValidationError: not a ``.py`` file, a syntax error (file and line in the message), an
            explicit entry point the script surely lacks, or several marked entry points.

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "fit.py"
        >>> _ = f.write_text("def fit():\\n    return 1\\n")
        >>> Script(f"{f}:fit").entrypoint, Script(f).name
        ('fit', 'fit')
    """

    path: str | os.PathLike[str]
    config: ScriptConfig = None
    entrypoint: str | None = None
    run_as_main: bool = True
    file: Path = field(init=False, repr=False, compare=False)
    info: ScriptInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text, function = split_target(self.path)
        if self.entrypoint is None and function:
            self.entrypoint = function
        self.path = Path(text)
        self.file = check_python_file(self.path)
        self.info = analyse(parse_file(self.file), self.file)
        if isinstance(self.config, (Config, Mapping)):
            self.config = _as_config(self.config, "config")
            check_inject(self.config.globals_dict)
        names = self.config.globals_dict if isinstance(self.config, Config) else {}
        check_static(self.info, self.entrypoint, list(names))

    @property
    def name(self) -> str:
        """The file name without ``.py``."""
        return self.file.stem

    def __repr__(self) -> str:
        return f"Script(path={str(self.path)!r}, entrypoint={self.entrypoint!r}, config={type(self.config).__name__})"

    def run(self, **options: Any) -> Run | list[Run]:
        """KohakuEngine's ``Script.run()``: ``ScriptExecutor(self, **options).execute()``."""
        return ScriptExecutor(self, **options).execute()


class ScriptExecutor:
    """Runs a :class:`Script`, one run per :meth:`execute` call.

    Args:
        script: the script.
        root: the store (path or :class:`~runlab.Store`; the default store when None).
        namespace: the runs' namespace (default: the config's ``namespace`` metadata, else the script's name).
        name, tags, description, links, capture: as for :func:`runlab.start_run`; the
            description defaults to the script's docstring.
        params: extra run parameters, recorded but not injected.

    Attributes:
        module: the module of the last execution (its globals as the script left them).
        result: the entry point's return value in the last execution.
        run: the last run.

    Fires ``experiment_constructed`` once, and ``before_experiment_parameters`` before each
    run (with the script's defaults and the config's values; what a plugin adds or changes
    is injected and recorded too, e.g. ``__NOTIFY__``).

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "double.py"
        >>> _ = f.write_text("x = 1\\ndef main():\\n    return 2 * x\\n")
        >>> ex = ScriptExecutor(Script(f), root=f.parent / "runs", capture=False)
        >>> ex.execute({"x": 21}).data["result"], ex.result, ex.module.x
        (42, 42, 21)
    """

    def __init__(
        self,
        script: Script,
        *,
        root: str | os.PathLike[str] | Store | None = None,
        namespace: str | None = None,
        name: str | None = None,
        tags: Iterable[str] | str | None = None,
        description: str | None = None,
        params: Mapping[str, Any] | None = None,
        links: Mapping[str, Any] | None = None,
        capture: bool = True,
    ) -> None:
        if params is not None and not isinstance(params, Mapping):
            raise ValidationError(f"Invalid params {params!r}: expected a mapping of names to values.")
        self.script = script
        self.store = get_store(root)
        self.options: dict[str, Any] = {"namespace": namespace, "name": name, "description": description}
        self.tags = tags
        self.params = dict(params or {})
        self.links = dict(links or {})
        self.capture = capture
        self.module: ModuleType | None = None
        self.result: Any = None
        self.run: Run | None = None
        self._param_info: dict[str, Param] | None = None
        self._block: frozenset[str] = frozenset()
        self.via = "ScriptExecutor"
        """The entry point recorded as ``origin.via`` (:func:`run_script` sets its own name)."""
        get_registry().apply(EXPERIMENT_CONSTRUCTED, experiment=script)

    def _known(self) -> dict[str, Param]:
        if self._param_info is None:
            known, block = script_param_parts(self.script.file)
            self._param_info, self._block = {**known, **block}, frozenset(block)
        return self._param_info

    def _parameters(self, injected: Mapping[str, Any]) -> dict[str, Any]:
        """The globals to inject: the config's, plus what ``before_experiment_parameters`` plugins add or change.

        Plugins see the script's defaults with the config's values on top (a mutable dict). Special
        parameters a plugin offers (``__NOTIFY__``) are kept only when the script defines them.
        """
        defaults = {name: param.default for name, param in self._known().items()}
        parameters = {**defaults, **injected}
        get_registry().apply(BEFORE_EXPERIMENT_PARAMETERS, experiment=self.script, parameters=parameters)
        return {
            k: v
            for k, v in parameters.items()
            if k in injected or (k in defaults and v is not defaults[k]) or (k not in defaults and not is_dunder(k))
        }

    def _info_for(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        known = self._known()
        return {n: {"type": known[n].type_name, "description": known[n].description} for n in names if n in known}

    def request(self, config: Config | Mapping[str, Any] | None = None, *, via: str | None = None) -> RunRequest:
        """The :class:`~runlab.request.RunRequest` of one run with ``config`` (default: the script's own).

        The config's globals become the request's parameters (injected), its args and kwargs
        the entry point's, its ``namespace``/``name``/``description`` metadata the run's
        options where the executor sets none.

        Raises:
            ValidationError: several configs, a bad config, or a protected global name.
        """
        if config is None:
            own = self.script.config
            if own is not None and not isinstance(own, Config):
                raise ValidationError(
                    f"{self.script} holds several configs; run them with runlab.run_script, or pass one to execute()."
                )
            config = own or Config()
        config = _as_config(config, "execute()")
        check_inject(config.globals_dict)
        meta = config.metadata
        opts: dict[str, Any] = {k: v if v is not None else _text(meta.get(k)) for k, v in self.options.items()}
        script = self.script
        return RunRequest(
            Target("script", script.file, script.entrypoint, tuple(config.args), config.kwargs, script.run_as_main),
            params=dict(config.globals_dict),
            options=RunOptions(tags=_tag_tuple(self.tags), root=str(self.store.root), capture=self.capture, **opts),
            links=Links.from_mapping(self.links),
            origin=Origin(self.via if via is None else via),
            recorded=self.params,
        )

    @overload
    def execute(self, config: Config | Mapping[str, Any] | None = None) -> Run: ...
    @overload
    def execute(self, config: ConfigGenerator | Iterable[Config]) -> list[Run]: ...
    @overload
    def execute(self, config: str | os.PathLike[str]) -> Run | list[Run]: ...
    def execute(self, config: ScriptConfig = None) -> Run | list[Run]:
        """Run with ``config`` (default: the script's own): one run, or for several configs one run each.

        Several (a ConfigGenerator, a list of Configs, a config file) run in order: a generator is asked
        for its next config after the previous run finished; a failing run stops the iteration. Raises
        ValidationError for bad input before the run exists, and the script's exception once its run is
        recorded as failed (``SystemExit(0)``/``SystemExit(None)`` complete the run and are not raised).
        """
        source = self.script.config if config is None else config
        if source is None or isinstance(source, (Config, Mapping)):
            return self._execute_one(None if config is None else source)
        configs, single = import_module("._run_script", __package__)._configs(source)
        runs = [self._execute_one(item) for item in configs]
        return runs[0] if single and len(runs) == 1 else runs

    def _execute_one(self, config: Config | Mapping[str, Any] | None) -> Run:
        metadata = _as_config(config, "execute()").metadata if config is not None else {}
        result = self.execute_request(self.request(config), metadata=metadata)
        if result.exception is not None:
            raise result.exception
        return result.run  # type: ignore[return-value]  # set whenever there is no exception

    def execute_request(self, request: RunRequest, *, metadata: Mapping[str, Any] | None = None) -> RunResult:
        """Run ``request`` (a ``"script"`` or ``"context"`` target of this executor's script).

        Returns the result also when the script failed (``result.exception`` holds its error);
        raises only for bad input, before the run exists. ``metadata`` (a config's) goes to
        the run's data as ``config/metadata``.
        """
        target, params = request.target, request.params
        if target.kind == "context":  # the script's globals injected (as `runlab run` did); the block reads the rest
            names = self._known().keys() - self._block
            injected: dict[str, Any] = {k: v for k, v in params.items() if k in names}
            extra = {**request.recorded, **{k: v for k, v in params.items() if k not in names}}
        else:
            injected, extra = dict(request.params), dict(request.recorded)
        values = self._parameters(injected)
        if self._block:  # runlab.run(params={...}) keys are recorded (the joining block reads them), not injected
            extra = {**extra, **{k: values.pop(k) for k in list(values) if k in self._block}}
        check_call(self.script.info, self.script.entrypoint, values, target.args, target.kwargs)
        opts = request.options
        defaults = {n: p.default for n, p in self._known().items() if p.usable}
        recorded = {**defaults, **extra, **values}
        root = opts.root
        store = self.store if root is None or Path(root) == self.store.root else get_store(root)
        driver = RunDriver(self.script, store)
        run = self.run = driver.initialize(
            namespace=opts.namespace or namespace_of(self.script.name),
            name=opts.name,
            description=opts.description or self.script.info.docstring,
            params=recorded,
            param_info=self._info_for(recorded),
            tags=list(opts.tags),
            experiment=self.script.name,
            source=self.script.file,
            links=request.links.to_dict(),
            origin=request.record_origin(),
            capture=opts.capture,
            reproducible=opts.reproducible,
            resume=opts.resume,
        )
        if metadata:
            run.data["config/metadata"] = dict(metadata) if _jsonable(metadata) else repr(metadata)
        driver.start(attachable=True)
        error: BaseException | None = None
        result: Any = None
        try:
            result = self._execute(values, target.args, target.kwargs)
        except EndRun as end:  # runlab.completed() / fail() / cancel() outside a with block
            if end.status is not RunStatus.COMPLETED:
                run.finish(end.status, end.message)
        except SystemExit as exc:
            error = None if exc.code in (0, None) else exc
        except BaseException as exc:
            error = exc
        self.result = result
        if error is None and result is not None and run.status == RunStatus.RUNNING.value:
            if _jsonable(result):
                run.data["result"] = result
                record_result_metrics(run, result)
            else:
                run.data["result_repr"] = repr(result)
        driver.end(error, result=result)
        return RunResult.of(run, result, error if error is not None else driver.error)

    def _execute(self, values: dict[str, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        script, info = self.script, self.script.info
        body, mains, sink = prepare_tree(info.tree, values, script.run_as_main)
        code = compile_tree(body, script.file)
        with loaded_module(script.file, as_main=script.run_as_main) as module:
            self.module = module
            namespace = module.__dict__
            namespace.update(values)
            if sink:
                namespace[SINK] = {}
            try:
                exec(code, namespace)
                entry = find_entrypoint(module, info, script.entrypoint)
                if entry.func is not None:
                    plain = not args and not kwargs
                    # a main block calling main(args) it builds itself runs as with ``python script.py``
                    if not (entry.rule == "main_block_call" and plain and not bindable(entry.func, [], {})):
                        return call_entrypoint(entry.func, list(args), dict(kwargs))
                if args or kwargs:
                    raise ValidationError(
                        f"{script.file} has no entry point function to give the config's args/kwargs to; define "
                        f"main() or choose one of its functions ({info.describe_functions()}) as entry point."
                    )
                for main in mains:
                    exec(compile_tree(main, script.file), namespace)
                return None
            finally:
                namespace.pop(SINK, None)


def _tag_tuple(tags: Iterable[str] | str | None) -> tuple[str, ...]:
    return (tags,) if isinstance(tags, str) else tuple(tags or ())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_MOVED = {"run_script": "._run_script", "_configs": "._run_script"}


def __getattr__(name: str) -> Any:
    """Names that moved to :mod:`._run_script`, still importable from here."""
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __package__), name)
