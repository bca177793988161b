"""What an experiment and an archived run's view share: parameters, hooks, data and the ``e`` API.

:class:`ExperimentBase` holds the state of a functional experiment and everything the main
function, hooks, testing and analysis functions use through ``e``: ``e.PARAM`` (actionable
types honoured), ``e["a/b"]``, ``e.log()``, ``e.track()``, ``e.commit_*()``, ``e.path``,
``e.metadata``, ``e.metrics()``. Users meet it as :class:`runlab.Experiment`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..errors import ExperimentContextError, ParameterError, RunFinishedError, ValidationError
from ..hooks._specs import EXPERIMENT_COMMIT_FIG, EXPERIMENT_COMMIT_JSON, EXPERIMENT_COMMIT_RAW, EXPERIMENT_TRACK
from ..lifecycle import Run, RunData
from ..params import ActionableParameterType, Param, did_you_mean, is_param_name, is_usable
from ..store._api import get_store
from ..store._store import Store
from ._hooks import HookEntries, HookMap, apply_hooks, compose, describe_hooks
from ._mixin import ExperimentMixin

if TYPE_CHECKING:
    from ..store import MetricSeries, RunRecord


__all__ = ["DEFAULT_NAME_FORMAT", "ExperimentBase", "SAFE_NAME"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_NAME_FORMAT = "{date}_{time}_{id}"
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]*$")


def _actionable(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, ActionableParameterType)


class ExperimentBase:
    """The state of a functional experiment and the ``e`` API; see :class:`runlab.Experiment`.

    Internal attributes are set with ``object.__setattr__``: UPPERCASE attribute names are
    parameters (``e.LR = 0.1`` sets one, through :meth:`__setattr__`).
    """

    glob: Mapping[str, Any]
    file: Path | None
    namespace: str | None
    root: str | os.PathLike[str] | Store | None
    debug: bool
    name_format: str
    console_width: int
    run_name: str | None
    description: str | None
    tags: list[str]
    func: Callable[[Any], Any] | None
    base: ExperimentBase | None
    _hooks: HookMap
    _base_entries: HookEntries
    _included: list[ExperimentMixin]
    _testing: list[Callable[..., Any]]
    _analyses: list[Callable[..., Any]]
    _globs: list[Mapping[str, Any]]
    _files: list[Path]
    _inherited: dict[str, Param]
    _defs: dict[str, Param]
    _defaults: dict[str, Any]
    _explicit: set[str]
    _own: set[str]
    _active: dict[str, Any] | None
    _run: Run | None
    _data: RunData
    _track_steps: dict[str, int]
    _config_path: Path | None
    _archive: Path | None
    _store: Store | None

    def _blank(self) -> None:
        """Every internal attribute with its empty value (views and experiments start here)."""
        set_ = object.__setattr__
        for key, value in (
            ("glob", {}), ("file", None), ("namespace", None), ("root", None), ("debug", False),
            ("name_format", DEFAULT_NAME_FORMAT), ("console_width", 100), ("run_name", None),
            ("description", None), ("tags", []), ("func", None), ("base", None), ("_hooks", HookMap()),
            ("_base_entries", {}), ("_included", []), ("_testing", []), ("_analyses", []), ("_globs", []),
            ("_files", []), ("_inherited", {}), ("_defs", {}), ("_defaults", {}), ("_explicit", set()),
            ("_own", set()), ("_active", None), ("_run", None), ("_data", RunData()), ("_track_steps", {}),
            ("_config_path", None), ("_archive", None), ("_store", None),
        ):  # fmt: skip
            set_(self, key, value)

    def _set_default(self, pname: str, value: Any) -> None:
        if pname not in self._defs:
            self._defs[pname] = Param(pname, Any if value is None else type(value), value, "", is_usable(value))
        self._defaults[pname] = value
        self._explicit.add(pname)

    def _refresh(self) -> None:
        """Pick up module globals defined after construction (experiments override this)."""

    def hook(self, name: str, replace: bool = False, default: bool = False, priority: int = 0) -> Callable[[F], F]:
        """Register the decorated ``fn(e, **kwargs)`` as an implementation of experiment hook ``name``.

        ``before_run`` (``run``) and ``after_run`` (``run``, ``result``) are applied around the
        main function; any other name is applied by the experiment's code with :meth:`apply_hook`.
        An implementation of ``before_run``/``after_run`` naming another argument is refused here
        (:class:`~runlab.HookSignatureError`).

        Args:
            replace: drop the implementations registered before (the base experiment's, the mixins').
            default: a fallback that runs only when no other implementation of ``name`` exists.
            priority: higher runs first; equal priorities run base, mixins, this file.
        """
        return self._hooks.decorator(name, replace=replace, default=default, priority=priority)

    def hook_entries(self) -> HookEntries:
        """Every hook implementation in call order: base, mixins (include order), this file."""
        return compose([self._base_entries, *(m.hook_entries() for m in self._included), self._hooks.entries()])

    def apply_hook(self, name: str, /, **kwargs: Any) -> Any:
        """Call the implementations of hook ``name`` as ``fn(e, **kwargs)``; returns the last non-None result
        (or the value of a ``StopHook`` an implementation raised to end the chain)."""
        return apply_hooks(self.hook_entries(), name, self, **kwargs)

    def testing(self, func: F) -> F:
        """``@experiment.testing``: called first in testing mode (``__TESTING__``) to shrink parameters."""
        self._testing.append(func)
        return func

    def analysis(self, func: F) -> F:
        """``@experiment.analysis``: ``fn(e)`` is copied into each run's ``analysis.py``; see :meth:`analyse`.

        The run's ``analysis.py`` holds the function's source, the top-level imports of its file
        and a header that loads the run, so ``python <run folder>/analysis.py`` calls it with the
        archived run as ``e``. The function should use ``e`` and imported names only (not other
        globals of the experiment file).
        """
        self._analyses.append(func)
        return func

    # -- parameters -------------------------------------------------------------------
    @property
    def parameters(self) -> dict[str, Any]:
        """The parameter values: the running run's, else the defaults (a live dict)."""
        return self._active if self._active is not None else self._defaults

    @property
    def parameter_info(self) -> dict[str, Param]:
        """Every parameter's definition (type, description, default)."""
        return dict(self._defs)

    def __getattr__(self, name: str) -> Any:
        if is_param_name(name):
            state = self.__dict__
            values = state.get("_active")
            if values is None:
                values = state.get("_defaults") or {}
            if name in values:
                return self._read(name, values[name])
            raise AttributeError(
                f"Experiment {state.get('namespace')!r} has no parameter {name!r}.{did_you_mean(name, values)} "
                "Parameters are the module's UPPERCASE globals."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if is_param_name(name):
            self._write(name, value)
        else:
            object.__setattr__(self, name, value)

    def _read(self, name: str, value: Any) -> Any:
        param = self._defs.get(name)
        if param is not None and _actionable(param.type):
            return param.type.get(self if self._has_folder() else None, value)
        return value

    def _write(self, name: str, value: Any) -> None:
        if self._archive is not None:
            raise RunFinishedError(f"Cannot set {name}: this is an archived run ({self._archive}), which is read-only.")
        param = self._defs.get(name)
        if param is not None and _actionable(param.type):
            value = param.type.set(self, value)
        if self._active is None:
            self._set_default(name, value)
            return
        if param is None:
            param = self._defs[name] = Param(name, Any if value is None else type(value), value, "", is_usable(value))
        self._active[name] = value
        run = self._run
        if run is not None and run.status == "running":
            run.log_params({name: value}, {name: self._info(param, value)})

    @staticmethod
    def _info(param: Param, value: Any) -> dict[str, Any]:
        return {"type": param.type_name, "description": param.description, "usable": is_usable(value)}

    def _known(self, name: str, where: str = "") -> Param:
        param = self._defs.get(name)
        if param is None:
            raise ParameterError(
                f"Unknown parameter {name!r}{where}.{did_you_mean(name, self._defs)} "
                f"Parameters of {self.namespace or 'this experiment'}: "
                f"{', '.join(n for n in self._defs if not n.startswith('__')) or 'none'}.",
                name,
            )
        return param

    def _coerce_overrides(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        return {str(k): self._known(str(k)).coerce(v) for k, v in overrides.items()}

    # -- what the code uses during a run ----------------------------------------------
    @property
    def source_file(self) -> Path | None:
        """The experiment file runs are started from (the extended file for a config-based experiment)."""
        if self.file is not None:
            return self.file
        return self.base.source_file if self.base is not None else None

    @property
    def experiment_name(self) -> str | None:
        """The experiment's name in run records: its file's name without ``.py``, else its namespace."""
        if self.file is not None:
            return self.file.stem
        return self.base.experiment_name if self.base is not None else self.namespace

    @property
    def current_run(self) -> Run | None:
        """The run being executed, or the last one this object ran (None before the first)."""
        return self._run

    def _has_folder(self) -> bool:
        return self._archive is not None or self._run is not None

    @property
    def path(self) -> Path:
        """The run's folder (of the run being executed, the last one, or the archived one).

        Raises:
            ExperimentContextError: the experiment has not run yet.
        """
        if self._archive is not None:
            return Path(self._archive)
        if self._run is None:
            raise ExperimentContextError("The experiment has no run folder yet: e.path exists once it runs.")
        return self._run.path

    def _running(self, what: str) -> Run:
        run = self._run
        if run is None or self._active is None or run.status != "running":
            raise ExperimentContextError(
                f"{what} needs a running experiment: call it inside the main function or a hook."
            )
        return run

    @property
    def data(self) -> RunData:
        """The run's data (``e["a/b"]``); before the first run, an in-memory store."""
        return self._run.data if self._run is not None else self._data

    def __setitem__(self, key: str, value: Any) -> None:
        if self._archive is not None:
            raise RunFinishedError(
                f"Cannot set {key!r}: this is an archived run ({self._archive}), which is read-only."
            )
        run = self._run
        if run is not None and self._active is None:
            raise RunFinishedError(f"Run {run.id} has finished; its data no longer changes. Run the experiment again.")
        self.data[key] = value

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def log(self, message: Any) -> None:
        """Print a timestamped line (the run's ``out.log`` gets it too)."""
        print(f"{datetime.now():%Y-%m-%d %H:%M:%S} | {message}", flush=True)

    def log_parameters(self) -> None:
        """Log every parameter with its value (special ones last)."""
        ordered = sorted(self.parameters, key=lambda n: (n.startswith("__"), n))
        width = max((len(n) for n in ordered), default=0)
        self.log("parameters:")
        for pname in ordered:
            text = repr(self.parameters[pname])
            room = max(self.console_width - width - 30, 10)
            if len(text) > room:
                text = text[: room - 3] + "..."
            self.log(f"  {pname:<{width}} = {text}")

    def track(self, name: str, value: Any) -> None:
        """Track a value over the run: a number becomes a metric point, a figure ``artifacts/track/NAME_NNN.png``.

        Raises:
            ValidationError: ``value`` is neither a number nor a matplotlib figure.
        """
        run = self._running("e.track()")
        steps = self._track_steps
        step = steps.get(name, 0)
        if callable(getattr(value, "savefig", None)):
            safe = re.sub(r"[^A-Za-z0-9_.\-]+", "_", name.replace("/", "__"))
            run.log_figure(value, f"track/{safe}_{step:03d}.png")
        elif isinstance(value, (int, float)) or (hasattr(value, "item") and not isinstance(value, (str, bytes))):
            run.log_metric(name, value, step)
        else:
            raise ValidationError(
                f"Cannot track {name!r}: {type(value).__name__} {value!r:.60} is neither a number nor a matplotlib "
                "figure. Store other values with e[key] = value."
            )
        steps[name] = step + 1
        self._plugins(EXPERIMENT_TRACK, run, name=name, value=value, step=step)

    def commit_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON artifact ``name``; returns its path."""
        run = self._running("e.commit_json()")
        path = run.save_json(name, data)
        self._plugins(EXPERIMENT_COMMIT_JSON, run, name=name, data=data, path=path)
        return path

    def commit_raw(self, name: str, content: str) -> Path:
        """Write text artifact ``name``; returns its path."""
        run = self._running("e.commit_raw()")
        path = run.save_text(name, content)
        self._plugins(EXPERIMENT_COMMIT_RAW, run, name=name, content=content, path=path)
        return path

    def commit_fig(self, name: str, figure: Any, **savefig_kwargs: Any) -> Path:
        """Save a matplotlib figure as artifact ``name`` (PNG unless the name says otherwise); returns its path."""
        run = self._running("e.commit_fig()")
        path = run.log_figure(figure, name, **savefig_kwargs)
        self._plugins(EXPERIMENT_COMMIT_FIG, run, name=name, figure=figure, path=path)
        return path

    def _plugins(self, hook: str, run: Run, /, **kwargs: Any) -> Any:
        from ..hooks import get_registry

        return get_registry().apply(hook, experiment=self, run=run, **kwargs)

    @property
    def metadata(self) -> dict[str, Any]:
        """The run's record (``run.json``) when there is a run, plus parameters, hooks and tracked names."""
        meta: dict[str, Any] = {}
        if self._archive is not None:
            from ..store._files import read_json

            meta = read_json(Path(self._archive) / "run.json")
        elif self._run is not None:
            meta = self._run.metadata
        else:
            meta = {"namespace": self.namespace, "name": self.run_name, "description": self.description,
                    "experiment": self.experiment_name}  # fmt: skip
        meta["parameters"] = {n: self._defs[n].to_dict(v) for n, v in self.parameters.items() if n in self._defs}
        meta["hooks"] = describe_hooks(self.hook_entries())
        meta["__track__"] = sorted(self._track_steps)
        return meta

    @overload
    def metrics(self, name: str) -> MetricSeries: ...
    @overload
    def metrics(self, name: None = None) -> dict[str, MetricSeries]: ...
    def metrics(self, name: str | None = None) -> MetricSeries | dict[str, MetricSeries]:
        """The metric history of the run (all metrics, or ``name``'s), read from its folder.

        Raises:
            MetricNotFoundError: the run has no metric ``name``.
        """
        from ..errors import MetricNotFoundError
        from ..store._metrics_file import read_metrics

        series, _ = read_metrics(self.path / "metrics.jsonl")
        if name is None:
            return series
        if name not in series:
            raise MetricNotFoundError(f"The run has no metric {name!r}; it has: {', '.join(series) or 'none'}.")
        return series[name]

    @property
    def record(self) -> RunRecord:
        """The store's record of the run (archived, running or last run)."""
        from ..store._files import read_json

        store = self._store or get_store(self.root)
        return store.load(read_json(self.path / "run.json")["id"])

    # -- display ----------------------------------------------------------------------
    def help_text(self) -> str:
        """What ``python exp.py --help`` prints: usage, description and every parameter."""
        self._refresh()
        prog = self.file.name if self.file else "experiment.py"
        lines = [f"usage: python {prog} [--NAME=VALUE ...]", ""]
        if self.description:
            lines += [self.description, ""]
        width = self.console_width
        for title, special in (("Parameters:", False), ("Special parameters:", True)):
            names = [n for n in self._defs if n.startswith("__") == special]
            if not names:
                continue
            lines.append(title)
            for pname in names:
                param = self._defs[pname]
                default = repr(self._defaults.get(pname))
                if len(default) > width // 2:
                    default = default[: width // 2 - 3] + "..."
                lines.append(f"  --{pname}  ({param.type_name}, default {default})")
                if param.description:
                    lines.append(f"      {param.description}")
            lines.append("")
        lines.append("Also: -p NAME=VALUE, --set NAME.key=VALUE for one item of a dict parameter.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        where = self._archive or self.file or "<interactive>"
        return f"<Experiment {self.namespace or ''} ({where})>"
