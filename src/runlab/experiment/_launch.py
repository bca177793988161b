"""What ``runlab run`` asks of an experiment file it executes.

``runlab run exp.py --LR=0.1 --name first`` executes ``exp.py`` as ``__main__`` inside
:func:`launching`. A functional experiment's ``run_if_main()`` then takes its overrides and
run options from the :class:`Launch` instead of ``sys.argv``, and reports each run it made
back into :attr:`Launch.runs`, so the command can print them and choose its exit code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..lifecycle import Run

__all__ = ["Launch", "current_launch", "launching"]


@dataclass
class Launch:
    """A ``runlab run`` request.

    Attributes:
        argv: parameter overrides as command-line arguments (``["--LR=0.1"]``).
        name, tags, description, namespace, root: run options given on the command line
            (None or empty when not given: the experiment's own settings apply).
        links: extra links for the run record (``{"parent": ID}`` for ``runlab rerun``).
        runs: filled by the experiment: every run it created, in order.
    """

    argv: list[str] = field(default_factory=list)
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    namespace: str | None = None
    root: Any = None
    links: dict[str, Any] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    claimed: bool = False


_launch: ContextVar[Launch | None] = ContextVar("runlab_launch", default=None)


def current_launch() -> Launch | None:
    """The ``runlab run`` request being executed, or None (a plain ``python exp.py``)."""
    return _launch.get()


@contextmanager
def launching(launch: Launch) -> Iterator[Launch]:
    """Execute code as ``runlab run`` would: :func:`current_launch` returns ``launch`` inside.

    Example:
        >>> with launching(Launch(argv=["--LR=0.1"])) as req:
        ...     current_launch() is req
        True
    """
    token = _launch.set(launch)
    try:
        yield launch
    finally:
        _launch.reset(token)
