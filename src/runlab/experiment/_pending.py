"""The run request a file executed by runlab is to claim.

``runlab run exp.py --LR=0.1`` and :func:`runlab.execute` execute a functional experiment
file as ``__main__`` inside :func:`pending`. The file's ``experiment.run_if_main()`` claims
the :class:`PendingRequest`: it validates the request's parameter values against its
parameters, parses the command line's overrides (``argv``: text only a functional
experiment can type, since its parameters exist once the file ran) once, runs the request
and reports the result back into :attr:`PendingRequest.results`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ._request import RunRequest, RunResult

__all__ = ["PendingRequest", "current_pending", "pending"]


class PendingRequest:
    """A request waiting for the experiment file being executed.

    Not a value class: made once per run, never compared, and a value class's ``__init__`` is
    compiled as its module loads (~1 M instructions of every functional run's start-up).

    Attributes:
        request: what to run (typed parameter values, options, links, origin).
        argv: command-line overrides (``["--LR=0.1"]``) the experiment parses against its parameters.
        results: filled by the experiment: the result of the run it made.
        claimed: an experiment took the request (a second ``run_if_main()`` runs as without runlab).
    """

    __slots__ = ("argv", "claimed", "request", "results")

    def __init__(
        self,
        request: RunRequest,
        argv: list[str] | None = None,
        results: list[RunResult] | None = None,
        claimed: bool = False,
    ) -> None:
        self.request = request
        self.argv = [] if argv is None else argv
        self.results = [] if results is None else results
        self.claimed = claimed


_pending: ContextVar[PendingRequest | None] = ContextVar("runlab_pending_request", default=None)


def current_pending() -> PendingRequest | None:
    """The request the file being executed is to claim, or None (a plain ``python exp.py``)."""
    return _pending.get()


@contextmanager
def pending(item: PendingRequest) -> Iterator[PendingRequest]:
    """Execute code with ``item`` waiting to be claimed (:func:`current_pending` returns it).

    Example:
        >>> from pathlib import Path
        >>> from runlab.experiment._request import Target
        >>> with pending(PendingRequest(RunRequest(Target("functional", Path("/tmp/e.py"))))) as p:
        ...     current_pending() is p
        True
    """
    token = _pending.set(item)
    try:
        yield item
    finally:
        _pending.reset(token)
