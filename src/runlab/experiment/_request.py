"""The run request: what every way of starting a run builds, and what :func:`runlab.execute` runs.

A :class:`RunRequest` says *what* to run (a :class:`Target`: a functional experiment file, a
config file whose ``extend`` names one, a plain script, or a script whose context block
records the parameters), the parameter values (parsed and validated where they entered:
typed values, never command-line text), the run :class:`RunOptions`, the :class:`Links`
written to ``run.json`` (``rerun_of``, ``sweep``, ``study``, ``trial``, ``workflow``,
``parent``) and the :class:`Origin` (which entry point built it).

Serialisation rule: :meth:`RunRequest.to_json` writes a value as JSON when JSON holds it
exactly (``None``, ``bool``, ``int``, finite ``float``, ``str`` and lists / string-keyed
dicts of those); any other value (a tuple, a ``Path``, a set, a NaN, a numpy array, an
object) travels as ``{"__pickle__": "<base64 pickle>"}``, so it arrives as the same type.
Pickled values must be importable where the request is read (classes and functions are
pickled by reference: define them in an importable module, not in ``__main__``).

Example:
    >>> req = RunRequest(Target("script", Path("/tmp/train.py")), params={"lr": 0.1, "shape": (2, 3)},
    ...                  links=Links(sweep="s1"))
    >>> back = RunRequest.from_json(req.to_json())
    >>> back == req, back.params["shape"]
    (True, (2, 3))
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from .._valueclass import value_class
from ..errors import ValidationError
from ._result import RunResult
from ._values import decode_map, decode_value, encode_map, encode_value, json_holds

__all__ = [
    "FORMAT",
    "LINK_NAMES",
    "Links",
    "Origin",
    "RunOptions",
    "RunRequest",
    "RunResult",
    "Target",
    "TargetKind",
    "decode_value",
    "encode_value",
]

FORMAT = 1
"""The version of the request's JSON layout (``"runlab_request"`` in the document)."""

TargetKind = Literal["functional", "config", "script", "context"]
_KINDS: tuple[str, ...] = get_args(TargetKind)
_FIELDS = ("runlab_request", "target", "params", "recorded", "options", "links", "origin")
_TARGET_FIELDS = ("kind", "path", "entrypoint", "args", "kwargs", "run_as_main")


def _check(value: Any, ok: bool, what: str, expected: str) -> None:
    """Refuse a field of the wrong type where it enters (a hand-edited request file, a caller's value)."""
    if not ok:
        raise ValidationError(f"Invalid {what} {value!r}: expected {expected}.")


def _unknown(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    extra = [k for k in data if k not in known]
    if extra:
        raise ValidationError(f"Unknown field {extra[0]!r} in {where}; its fields are: {', '.join(known)}.")


# -- parts ----------------------------------------------------------------------------
@value_class(frozen=True)
class Target:
    """What to run.

    Attributes:
        kind: ``"functional"`` (a file making a :class:`runlab.Experiment`), ``"config"`` (a
            YAML/TOML/JSON config whose ``extend`` names a functional experiment), ``"script"``
            (a plain script; the parameters are injected as globals) or ``"context"`` (a script
            whose ``with runlab.run()`` block reads the parameters: all are recorded, and those that
            are globals of the script are injected too, as ``runlab run`` injects them).
        path: the file (absolute); None for an experiment made in memory (it runs only in-process).
        entrypoint: a plain script's function to call (discovered when None).
        args, kwargs: the entry point's arguments (plain scripts).
        run_as_main: a plain script runs with ``__name__ == "__main__"``.
    """

    kind: TargetKind
    path: Path | None = None
    entrypoint: str | None = None
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    run_as_main: bool = True

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValidationError(f"Invalid target kind {self.kind!r}: expected one of {', '.join(_KINDS)}.")
        _check(self.entrypoint, self.entrypoint is None or isinstance(self.entrypoint, str), "entry point",
               "the name of a function of the script, or None")  # fmt: skip
        _check(self.args, not isinstance(self.args, (str, bytes, Mapping)), "args", "a list of positional arguments")
        _check(self.kwargs, isinstance(self.kwargs, Mapping), "kwargs", "a mapping of argument names to values")
        _check(self.run_as_main, isinstance(self.run_as_main, bool), "run_as_main", "true or false")
        if self.path is not None:
            object.__setattr__(self, "path", Path(self.path).resolve())
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "kwargs", dict(self.kwargs))

    def describe(self) -> str:
        """``kind path[:entrypoint]`` for messages."""
        where = str(self.path) if self.path is not None else "<in memory>"
        return f"{self.kind} {where}{':' + self.entrypoint if self.entrypoint else ''}"


@value_class(frozen=True)
class RunOptions:
    """Run settings; None (or empty) leaves the experiment's own setting.

    Attributes:
        name, tags, description, namespace: as for :func:`runlab.start_run`.
        root: the store's folder (None: ``RUNLAB_ROOT``, ``[tool.runlab] root`` or ``./runs``).
        capture: capture git, environment and code snapshots.
        reproducible: also save what ``runlab reproduce`` needs (docs/reproduce.md); a functional
            experiment's ``__REPRODUCIBLE__`` does the same.
        resume: continue a crashed or cancelled run instead of creating one: its ID, name or
            folder, or ``"auto"`` (see :func:`runlab.start_run`).
    """

    name: str | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    namespace: str | None = None
    root: str | None = None
    capture: bool = True
    reproducible: bool = False
    resume: str | None = None

    def __post_init__(self) -> None:
        _check(self.capture, isinstance(self.capture, bool), "capture option", "true or false")
        _check(self.reproducible, isinstance(self.reproducible, bool), "reproducible option", "true or false")
        tags = self.tags
        object.__setattr__(self, "tags", (tags,) if isinstance(tags, str) else tuple(tags or ()))
        if self.root is not None and not isinstance(self.root, str):
            object.__setattr__(self, "root", os.fspath(getattr(self.root, "root", self.root)))


LINK_NAMES = ("rerun_of", "sweep", "study", "trial", "workflow", "parent")
"""The links a run records in ``run.json`` (each key always present, None when unset)."""


@value_class(frozen=True)
class Links:
    """Which runs and groups a run belongs to; written to ``run.json`` under these names.

    Attributes:
        rerun_of: the run this one starts again (``runlab rerun``).
        sweep, study, trial, workflow: the sweep, Optuna study, trial number and workflow it belongs to.
        parent: a run this one was started from (a run started inside another).
    """

    rerun_of: str | None = None
    sweep: str | None = None
    study: str | None = None
    trial: str | int | None = None
    workflow: str | None = None
    parent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every link name with its value (None when unset)."""
        return {name: getattr(self, name) for name in LINK_NAMES}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Links:
        """Links from a mapping such as ``{"rerun_of": ID}``.

        Raises:
            ValidationError: an unknown link name.
        """
        values = dict(values or {})
        unknown = [k for k in values if k not in LINK_NAMES]
        if unknown:
            raise ValidationError(f"Unknown run link {unknown[0]!r}; links are: {', '.join(LINK_NAMES)}.")
        return cls(**values)


@value_class(frozen=True)
class Origin:
    """Which entry point built the request (recorded as ``origin.via`` in ``run.json``).

    Attributes:
        via: ``"runlab run"``, ``"runlab rerun"``, ``"run_if_main"``, ``"Experiment.run"``,
            ``"run_script"``, ``"ScriptExecutor"``, ``"runlab.run"``, ``"config"`` or a caller's own
            (an executor or a sweep names itself).
        argv: the command line's parameter overrides as typed (for the record; never re-parsed).
    """

    via: str = "api"
    argv: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check(self.via, isinstance(self.via, str), "origin via", "text naming the entry point")
        argv = self.argv
        ok = not isinstance(argv, (str, bytes)) and all(isinstance(a, str) for a in argv)
        _check(argv, ok, "origin argv", "a list of command-line arguments (text)")
        object.__setattr__(self, "argv", tuple(argv))


# -- the request ----------------------------------------------------------------------
@value_class(frozen=True)
class RunRequest:
    """One run to make: target, validated parameter values, options, links and origin.

    Build one with keyword arguments; :func:`runlab.execute` runs it here, ``python -m
    runlab.execute FILE`` runs one written with :meth:`write` in a fresh process.

    Attributes:
        target: what to run.
        params: parameter values for this run (over the experiment's defaults), already
            validated: typed values, not text. A functional experiment's overrides; a plain
            script's injected globals; a ``"context"`` target's values (recorded in the run, where
            the block reads them; those that are globals of the script are injected as well).
        recorded: more values recorded as parameters but not given to the code.
        options, links, origin: see :class:`RunOptions`, :class:`Links`, :class:`Origin`.

    Example:
        >>> req = RunRequest(Target("functional", Path("/tmp/exp.py")), {"LR": 0.1}, RunOptions(name="a"))
        >>> req.with_params(EPOCHS=3).params
        {'LR': 0.1, 'EPOCHS': 3}
    """

    target: Target
    params: Mapping[str, Any] = field(default_factory=dict)
    options: RunOptions = field(default_factory=RunOptions)
    links: Links = field(default_factory=Links)
    origin: Origin = field(default_factory=Origin)
    recorded: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.target, Target):
            raise ValidationError(f"Invalid target {self.target!r}: expected a runlab.request.Target.")
        if not isinstance(self.params, Mapping):
            raise ValidationError(f"Invalid params {self.params!r}: expected a mapping of names to values.")
        object.__setattr__(self, "params", {str(k): v for k, v in self.params.items()})
        if not isinstance(self.recorded, Mapping):
            raise ValidationError(f"Invalid recorded {self.recorded!r}: expected a mapping of names to values.")
        object.__setattr__(self, "recorded", {str(k): v for k, v in self.recorded.items()})
        if isinstance(self.links, Mapping):
            object.__setattr__(self, "links", Links.from_mapping(self.links))

    def with_params(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> RunRequest:
        """A copy with ``values`` set over this request's parameters."""
        return replace(self, params={**self.params, **dict(values or {}), **more})

    def with_options(self, **changes: Any) -> RunRequest:
        """A copy with run options changed (``name=``, ``tags=`` ...)."""
        return replace(self, options=replace(self.options, **changes))

    def with_links(self, **changes: Any) -> RunRequest:
        """A copy with links changed (``sweep=``, ``trial=`` ...)."""
        return replace(self, links=replace(self.links, **changes))

    def record_origin(self) -> dict[str, Any]:
        """What ``run.json`` records as ``origin``: how to start the run again, and the entry point."""
        target = self.target
        style = "functional" if target.kind == "config" else target.kind
        origin: dict[str, Any] = {"style": style, "path": str(target.path) if target.path else None}
        if target.kind in ("functional", "config"):
            origin["config"] = str(target.path) if target.kind == "config" else None
        if target.kind == "script":
            origin["entrypoint"] = target.entrypoint
            origin["args"] = list(target.args) if json_holds(list(target.args)) else None
            origin["kwargs"] = {k: v for k, v in target.kwargs.items() if json_holds(v)}
            unrecorded = [f"kwargs.{k}" for k in target.kwargs if k not in origin["kwargs"]]
            if origin["args"] is None:
                unrecorded.insert(0, "args")
            if unrecorded:
                origin["unrecorded"] = unrecorded  # not JSON: a rerun cannot give these back
        origin["via"] = self.origin.via
        if self.origin.argv:
            origin["argv"] = list(self.origin.argv)
        return origin

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (values JSON cannot hold are pickled; see the module's rule)."""
        target = self.target
        return {
            "runlab_request": FORMAT,
            "target": {
                "kind": target.kind,
                "path": str(target.path) if target.path is not None else None,
                "entrypoint": target.entrypoint,
                "args": [encode_value(a, f"args[{i}]") for i, a in enumerate(target.args)],
                "kwargs": encode_map(target.kwargs, "kwargs"),
                "run_as_main": target.run_as_main,
            },
            "params": encode_map(self.params, "params"),
            "recorded": encode_map(self.recorded, "recorded"),
            # resume (added later) only when set: a request without it stays readable by older runlab
            "options": {
                f.name: getattr(self.options, f.name)
                for f in fields(RunOptions)
                if f.name != "resume" or self.options.resume is not None
            }
            | {"tags": list(self.options.tags)},
            "links": self.links.to_dict(),
            "origin": {"via": self.origin.via, "argv": list(self.origin.argv)},
        }

    def to_json(self) -> str:
        """The request as JSON text (see :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: Any) -> RunRequest:
        """The request of :meth:`to_dict`'s output.

        Raises:
            ValidationError: not a run request, a newer format, or a malformed part.
        """
        if not isinstance(data, dict) or "runlab_request" not in data:
            raise ValidationError("Not a run request: expected a JSON object with 'runlab_request' and 'target'.")
        if data["runlab_request"] != FORMAT:
            raise ValidationError(
                f"Run request format {data['runlab_request']!r} is not supported (this runlab reads {FORMAT}); "
                "write and read requests with the same runlab version."
            )
        _unknown(data, _FIELDS, "the run request")
        try:
            t = data["target"]
            if isinstance(t, dict):
                _unknown(t, _TARGET_FIELDS, "the request's target")
            args = t.get("args") or []
            _check(args, isinstance(args, list), "args", "a list of positional arguments")
            target = Target(
                kind=t["kind"],
                path=Path(t["path"]) if t.get("path") else None,
                entrypoint=t.get("entrypoint"),
                args=tuple(decode_value(a, f"args[{i}]") for i, a in enumerate(args)),
                kwargs=decode_map(t.get("kwargs") or {}, "kwargs"),
                run_as_main=t.get("run_as_main", True),
            )
            opts = dict(data.get("options") or {})
            return cls(
                target=target,
                params=decode_map(data.get("params") or {}, "params"),
                recorded=decode_map(data.get("recorded") or {}, "recorded"),
                options=RunOptions(**opts),
                links=Links.from_mapping(data.get("links")),
                origin=Origin(**(data.get("origin") or {})),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"Malformed run request: {type(exc).__name__}: {exc}.") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> RunRequest:
        """Read a request written by :meth:`to_json`.

        Raises:
            ValidationError: not JSON, or not a run request.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValidationError(f"A run request must be JSON: {exc}.") from None
        return cls.from_dict(data)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the request to ``path`` (atomically); returns the path."""
        from ..store._files import atomic_write_bytes

        target = Path(path)
        atomic_write_bytes(target, self.to_json().encode("utf-8"))
        return target

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> RunRequest:
        """Read a request file written by :meth:`write`.

        Raises:
            ValidationError: the file is missing or holds no run request (the message names it).
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"Cannot read run request {path}: {exc.strerror or exc}.") from None
        try:
            return cls.from_json(text)
        except ValidationError as exc:
            raise ValidationError(f"{path}: {exc}") from None
