"""``logger=`` of :func:`~runlab.branch.branch`: a backend object, a name, or None."""

from __future__ import annotations

import os
import threading
from typing import Any

from ._errors import BranchError
from ._loggers import InMemoryLogger, LoggerBackend

__all__ = ["LOGGER_NAMES", "forget_shared", "resolve_logger"]

LOGGER_NAMES = ("store", "mlflow", "memory")
_shared: dict[str, LoggerBackend] = {}
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread of the parent may have held it


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _make(name: str) -> LoggerBackend:
    if name == "store":
        from ._store_logger import StoreLogger

        return StoreLogger()
    if name == "mlflow":
        from ._mlflow_logger import MlflowLogger

        return MlflowLogger()
    return InMemoryLogger()


def resolve_logger(spec: Any) -> LoggerBackend | None:
    """The backend for ``logger=``.

    ``"store"`` (the default) and ``"mlflow"`` are one backend per process shared by every
    decorated function (the default store; the default MLflow database beside it);
    ``"memory"`` is a new :class:`InMemoryLogger`; ``None`` or ``False`` records nothing.

    Raises:
        BranchError: an unknown name or an object without ``record``, ``flush`` and ``close``.
    """
    if spec is None or spec is False:
        return None
    if isinstance(spec, str):
        name = spec.lower()
        if name not in LOGGER_NAMES:
            raise BranchError(f"Unknown logger {spec!r}: use one of {', '.join(map(repr, LOGGER_NAMES))}, None, or "
                              "a LoggerBackend object such as StoreLogger(root=...).")  # fmt: skip
        if name == "memory":
            return InMemoryLogger()
        with _lock:
            logger = _shared.get(name)
            if logger is None or getattr(logger, "closed", False):
                logger = _shared[name] = _make(name)
            return logger
    if isinstance(spec, type) or not isinstance(spec, LoggerBackend):
        raise BranchError(f"Invalid logger {spec!r}: a logger backend has methods record(branch, session), flush() "
                          f"and close(); or give one of {', '.join(map(repr, LOGGER_NAMES))} or None.")  # fmt: skip
    return spec


def forget_shared() -> None:
    """Drop the shared backends (after :func:`~runlab.branch.shutdown` closed them)."""
    with _lock:
        _shared.clear()
