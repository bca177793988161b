"""The executor interface: submit run requests, get results in submission order, cancel."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, MutableMapping
from typing import Any, ClassVar, TypeVar

from ._ship import RunRequest, RunResult, not_started

__all__ = ["Executor", "SubmitInterrupted"]

K = TypeVar("K", bound=Hashable)


class SubmitInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run that :meth:`Executor.submit` was executing (``inline`` runs each
    request as it is submitted): the request counts as submitted, its run is recorded
    ``cancelled``, and ``ticket`` is its ticket. A ``KeyboardInterrupt``, so Ctrl-C handling
    stays as it is; :meth:`Executor.submit_to` keeps the ticket for the caller.

    Example:
        >>> isinstance(SubmitInterrupted(3), KeyboardInterrupt), SubmitInterrupted(3).ticket
        (True, 3)
    """

    def __init__(self, ticket: int) -> None:
        super().__init__(ticket)
        self.ticket = ticket


class Executor(ABC):
    """Where runs execute. A sweep, study or workflow makes run requests; an executor runs them.

    Contract (the conformance suite in ``tests/executors`` checks it for every executor):

    - :meth:`submit` takes a :class:`RunRequest` and returns its ticket (0, 1, 2, ...). It may
      run the request at once (``inline``) or queue it; at most :attr:`workers` run at a time.
    - :meth:`results` yields one :class:`RunResult` per submitted request, in submission order,
      waiting for each; :meth:`completed` yields ``(ticket, result)`` in the order runs finish.
      A run's own error never raises here: it is the result's ``status``/``error``. A run whose
      process died gives status ``crashed`` (its record shows crashed too).
    - :meth:`cancel` (from any thread): nothing new starts, queued requests end ``cancelled``
      without a run, running runs are interrupted and recorded ``cancelled``; none is left running.
    - :meth:`close` releases workers; executors are context managers. Call :meth:`submit` and
      :meth:`results` from one thread.

    Example:
        >>> from runlab.executors import get_executor
        >>> with get_executor("inline") as ex:
        ...     ex.workers
        1
    """

    name: ClassVar[str] = ""
    #: False when the runs write their folders only, not the store's SQLite index (runs on other
    #: hosts): the caller indexes each finished run's folder (a sweep does).
    index_writes: bool = True

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._futures: list[cf.Future[RunResult]] = []
        self._cancelled = threading.Event()
        self._running = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:
            self.cancel()
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} workers={self.workers}>"

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled.is_set()

    @property
    def running(self) -> int:
        """How many runs execute right now (for progress displays)."""
        return self._running

    def _started(self, delta: int) -> None:
        with self._lock:
            self._running += delta

    def submit(self, request: RunRequest) -> int:
        """Queue ``request`` (or run it, for ``inline``); returns its ticket."""
        ticket = len(self._futures)
        if self.cancelled:
            future: cf.Future[RunResult] = cf.Future()
            future.set_result(not_started())
        else:
            future = self._start(request)
        self._futures.append(future)
        return ticket

    def submit_to(self, futures: MutableMapping[cf.Future[RunResult], K], key: K, request: RunRequest) -> None:
        """:meth:`submit` ``request`` and file its future in ``futures`` under ``key`` (a sweep's
        entry, a trial, a step), also when Ctrl-C stops it inside ``submit`` (:class:`SubmitInterrupted`
        is raised after): the cancelled run is then the caller's to record, as every other one.

        Example:
            >>> from runlab.executors import get_executor
            >>> from runlab.request import RunRequest, Target
            >>> futures = {}
            >>> with get_executor("inline") as ex:
            ...     ex.cancel()  # nothing starts: the request ends cancelled without a run
            ...     ex.submit_to(futures, "step a", RunRequest(Target("script", None)))
            >>> [(key, str(f.result().status)) for f, key in futures.items()]
            [('step a', 'cancelled')]
        """
        try:
            ticket = self.submit(request)
        except SubmitInterrupted as stopped:
            futures[self.future(stopped.ticket)] = key
            raise
        futures[self.future(ticket)] = key

    @abstractmethod
    def _start(self, request: RunRequest) -> cf.Future[RunResult]:
        """Start or queue one request; the future's result is its :class:`RunResult`."""

    def future(self, ticket: int) -> cf.Future[RunResult]:
        """The future of the request with ``ticket`` (for waiting on several at once)."""
        return self._futures[ticket]

    def results(self) -> Iterator[RunResult]:
        """Every result, in submission order (waits for each)."""
        for future in list(self._futures):
            yield future.result()

    def completed(self) -> Iterator[tuple[int, RunResult]]:
        """``(ticket, result)`` for every submitted request, as runs finish."""
        tickets = {future: i for i, future in enumerate(self._futures)}
        for future in cf.as_completed(tickets):
            yield tickets[future], future.result()

    def cancel(self) -> None:
        """Stop: queued requests end cancelled, running runs are interrupted and recorded cancelled."""
        self._cancelled.set()
        self._cancel_running()

    def _cancel_running(self) -> None:  # noqa: B027  (inline has nothing running in the background)
        """Interrupt the runs that execute now (executors with workers override this)."""

    def close(self) -> None:  # noqa: B027  (inline holds nothing)
        """Release workers and temporary files (waits for running runs unless cancelled)."""
