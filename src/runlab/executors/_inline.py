"""The ``inline`` executor: runs in this process, one after another (debugging, notebooks)."""

from __future__ import annotations

import concurrent.futures as cf

from ._base import Executor, SubmitInterrupted
from ._ship import RunRequest, RunResult, execute_catching

__all__ = ["InlineExecutor"]


class InlineExecutor(Executor):
    """Each request runs in the calling thread as it is submitted; exceptions stay in their run.

    Ctrl-C cancels the run that executes (recorded ``cancelled``), which counts as submitted,
    and then propagates from :meth:`submit` as :class:`SubmitInterrupted` carrying its ticket,
    so a sweep stops there and still records that run. Output goes to the terminal as usual.

    Example:
        >>> InlineExecutor().workers
        1
    """

    name = "inline"

    def __init__(self) -> None:
        super().__init__(workers=1)

    def submit(self, request: RunRequest) -> int:
        ticket = super().submit(request)
        if self._interrupt is not None:
            interrupt, self._interrupt = self._interrupt, None
            raise SubmitInterrupted(ticket) from interrupt
        return ticket

    _interrupt: BaseException | None = None

    def _start(self, request: RunRequest) -> cf.Future[RunResult]:
        future: cf.Future[RunResult] = cf.Future()
        self._started(1)
        try:
            result, error = execute_catching(request)
        finally:
            self._started(-1)
        if isinstance(error, KeyboardInterrupt):
            self._cancelled.set()
            self._interrupt = error
        future.set_result(result)
        return future
