"""Forked children: the parent's branch threads, buffers and sessions are not the child's.

A child made by ``os.fork`` (``multiprocessing`` with the fork start method, pre-forking
servers) has copies of the parent's objects but only the thread that forked. Without a reset
it would queue branch jobs for threads that do not exist (a sync MultiBranch call would wait
forever), leave its branches in a buffer no writer thread empties, and write the rest into
the parent's session run at exit. Each object that holds such state registers here and its
``_after_fork()`` runs in the child, right after the fork: it drops what belongs to the
parent (the parent still writes it) and starts afresh, as the lifecycle does for open runs.
"""

from __future__ import annotations

import os
import sys
import weakref
from typing import Any

__all__ = ["reset_in_child"]

_objects: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()  # by id: objects need no hash


def reset_in_child(obj: Any) -> None:
    """Call ``obj._after_fork()`` in every forked child of this process (while ``obj`` lives)."""
    _objects[id(obj)] = obj


def _after_fork_in_child() -> None:
    for obj in list(_objects.values()):
        try:
            obj._after_fork()
        except Exception as exc:  # one object's failure (a subclass's own reset) spares the others
            print(f"runlab: after fork: could not reset {type(obj).__name__}: {type(exc).__name__}: {exc}",
                  file=sys.__stderr__)  # fmt: skip


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
