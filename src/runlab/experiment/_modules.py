"""Loading experiment and mixin files as modules (never as ``__main__``) for ``extend`` and ``include``."""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from .. import _pyfile as pyfile
from ..errors import ExperimentNotFoundError, ValidationError
from ._loader import compile_tree, parse_file

__all__ = ["find_instance", "load_module", "resolve_file"]

T = TypeVar("T")

_loading: ContextVar[tuple[Path, ...]] = ContextVar("runlab_loading_experiment_files", default=())


def resolve_file(path: str | os.PathLike[str], glob: Mapping[str, Any] | None, what: str) -> Path:
    """An existing ``.py`` file; a relative ``path`` is taken from the folder of ``glob['__file__']``.

    Raises:
        ValidationError: the file does not exist or is not a Python file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValidationError(f"Invalid {what} path {path!r}: expected the path of a .py file.")
    target = Path(os.path.expanduser(os.fspath(path)))
    if not target.is_absolute():
        here = (glob or {}).get("__file__")
        base = Path(here).resolve().parent if isinstance(here, str) and here else Path.cwd()
        target = base / target
    target = target.resolve()
    if not target.is_file():
        raise ValidationError(f"Cannot find the {what} file {path!r} (looked for {target}). Check the path.")
    if target.suffix != ".py":
        raise ValidationError(f"Invalid {what} file {target}: expected a Python file ending in .py.")
    return target


def load_module(path: Path, what: str) -> types.ModuleType:
    """Execute ``path`` as a fresh module (its ``__name__`` is not ``"__main__"``) with :mod:`runlab._pyfile`.

    Its folder is on ``sys.path`` while it runs, so it imports its neighbours as with
    ``python file.py``. Each call loads the file anew; the module stays in ``sys.modules``
    (so what it defines pickles).

    Raises:
        ValidationError: the file takes part in an ``extend`` / ``include`` cycle, or has a syntax error.
    """
    chain = _loading.get()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain[chain.index(path) :], path))
        raise ValidationError(f"{what.capitalize()} cycle: {cycle}. An experiment cannot extend itself.")
    code = compile_tree(parse_file(path), path)  # a syntax error: ValidationError with file and line
    token = _loading.set((*chain, path))
    try:
        module = pyfile.load_module(path, pyfile.module_name(path, f"_runlab_{what}"), code=code)
    finally:
        _loading.reset(token)
    return module


def find_instance(module: types.ModuleType, cls: type[T], preferred: str) -> T | None:
    """The ``cls`` instance among the module's globals: the one named ``preferred``, else the only one."""
    found: dict[int, T] = {}
    for value in vars(module).values():
        if isinstance(value, cls):
            found.setdefault(id(value), value)
    named = vars(module).get(preferred)
    if isinstance(named, cls):
        return named
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        raise ExperimentNotFoundError(
            f"{module.__file__} defines {len(found)} {cls.__name__} objects; name the one to use {preferred!r}."
        )
    return None
