"""Forked children: the parent's branch threads, buffers and sessions are not the child's.

A child made by ``os.fork`` (``multiprocessing`` with the fork start method, pre-forking
servers) has copies of the parent's objects but only the thread that forked. Without a reset
it would queue branch jobs for threads that do not exist (a sync MultiBranch call would wait
forever), leave its branches in a buffer no writer thread empties, and write the rest into
the parent's session run at exit. Each object that holds such state registers here and its
``_after_fork()`` runs in the child, right after the fork: it drops what belongs to the
parent (the parent still writes it) and starts afresh, as the lifecycle does for open runs.

Locks are the other half: a lock that another thread of the parent held at the fork stays
held in the child, by a thread that does not exist there, and the child's first use of it
hangs for ever. Each object replaces its own locks in ``_after_fork()``; objects runlab does
not own (a user's strategy) have the locks they hold as attributes reinitialised in place by
:func:`reinit_locks`.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from typing import Any

__all__ = ["reinit_locks", "reset_in_child"]

_objects: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()  # by id: objects need no hash


def reset_in_child(obj: Any) -> None:
    """Call ``obj._after_fork()`` in every forked child of this process (while ``obj`` lives)."""
    _objects[id(obj)] = obj


_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


def reinit_locks(obj: Any) -> None:
    """In a forked child: make the locks that are attributes of ``obj`` usable again.

    Each ``threading.Lock``, ``RLock`` or ``Condition`` held directly as an attribute is
    reinitialised in place (unlocked, no waiters), so an attribute shared with other objects
    stays shared. An ``RLock`` (or a ``Condition`` over one) that the forking thread itself
    holds is left alone: that thread goes on in the child and releases it. Objects without a
    ``__dict__`` (``__slots__``) and locks held deeper (in a list, in another object) are not
    reached: such an object resets them in an ``os.register_at_fork(after_in_child=...)``
    function of its own.
    """
    try:
        values = list(vars(obj).values())
    except TypeError:  # no __dict__
        return
    for value in values:
        if not isinstance(value, (_LOCK, _RLOCK, threading.Condition)):
            continue
        inner = getattr(value, "_lock", value) if isinstance(value, threading.Condition) else value
        if isinstance(inner, _RLOCK) and inner._is_owned():  # type: ignore[attr-defined]
            continue
        reinit = getattr(value, "_at_fork_reinit", None)
        if callable(reinit):
            reinit()


def _after_fork_in_child() -> None:
    for obj in list(_objects.values()):
        try:
            obj._after_fork()
        except Exception as exc:  # one object's failure (a subclass's own reset) spares the others
            print(f"runlab: after fork: could not reset {type(obj).__name__}: {type(exc).__name__}: {exc}",
                  file=sys.__stderr__)  # fmt: skip


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
