"""Logger backends: where finished branches are recorded.

A backend satisfies :class:`LoggerBackend`. The decorated function calls :meth:`record` once
per branch when it is marked (from whichever thread or task ran it), so ``record`` must be
cheap and thread-safe: the buffered backends only append to a list, and a background thread
writes batches. :class:`InMemoryLogger` keeps everything in memory for users' tests.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from .._valueclass import value_class
from ._branch import Branch
from ._configs import BranchConfig
from ._errors import LoggerClosedError
from ._fork import reset_in_child

__all__ = ["BranchSession", "BufferedLogger", "InMemoryLogger", "LoggerBackend"]


@value_class(frozen=True, eq=False)
class BranchSession:
    """One decorated function in one process: what every branch it records belongs to.

    Attributes:
        id: a random hex id of this session.
        function: the function's ``module.qualname``.
        strategy: the strategy's name.
        configs: the config pool.
    """

    id: str
    function: str
    strategy: str
    configs: tuple[BranchConfig, ...]

    def config_table(self) -> dict[str, Any]:
        """``{config_id: config}`` with JSON-ready configs.

        A config that a run cannot store as JSON (one holding an integer beyond 64 bits) is
        given as its text, so that the table and every other config in it stay readable.
        """
        from ..errors import DataError
        from ..lifecycle._values import safe_repr, to_json_value
        from ..params import canonical

        table: dict[str, Any] = {}
        for c in self.configs:
            value = canonical(c.value)
            try:
                table[c.config_id] = to_json_value(value, "configs", c.config_id)
            except DataError:
                table[c.config_id] = safe_repr(value)
        return table


@runtime_checkable
class LoggerBackend(Protocol):
    """Records finished branches.

    Contract:
        - :meth:`record` is called once per branch, after it is marked, from any thread; it must
          not block on I/O (buffer and write later) and must not raise for a valid branch.
        - :meth:`flush` writes everything recorded so far before it returns.
        - :meth:`close` flushes and ends the backend's sessions; it may be called more than once;
          :meth:`record` after :meth:`close` raises :class:`~runlab.branch.LoggerClosedError`.
    """

    def record(self, branch: Branch, session: BranchSession) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class InMemoryLogger:
    """Keeps recorded branches in memory: for tests of code that uses branching.

    Example:
        >>> import runlab.branch as rb
        >>> log = rb.InMemoryLogger()
        >>> @rb.branch(configs=[{"n": 1}, {"n": 2}], strategy="multi_branch", logger=log)
        ... def double(config):
        ...     return 2 * config["n"]
        >>> _ = double()
        >>> sorted(r["output"] for r in log.records)
        [2, 4]
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self.branches: list[Branch] = []
        self.records: list[dict[str, Any]] = []
        self.sessions: dict[str, BranchSession] = {}
        reset_in_child(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # another thread of the parent may have held it

    def record(self, branch: Branch, session: BranchSession) -> None:
        row = {**branch.to_dict(output_limit=None), "function": session.function, "strategy": session.strategy,
               "session": session.id}  # fmt: skip
        with self._lock:
            if self._closed:
                raise LoggerClosedError("This InMemoryLogger is closed; make a new one to record more branches.")
            self.sessions.setdefault(session.id, session)
            self.branches.append(branch)
            self.records.append(row)

    def flush(self) -> None:
        """Nothing to write: records are kept as they come."""

    def close(self) -> None:
        with self._lock:
            self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def clear(self) -> None:
        """Forget what was recorded."""
        with self._lock:
            self.branches.clear()
            self.records.clear()


class BufferedLogger:
    """Base of the backends that write in batches from a background thread.

    Subclasses implement :meth:`_write` (one batch: one session's branches, in record order) and
    may extend :meth:`_finish` (end sessions at close). A failed batch is kept and retried at
    the next flush, without holding up or repeating other sessions' batches; the error is
    reported once on stderr (and raised from an explicit :meth:`flush`).
    Thread-safe; one writer at a time.
    """

    def __init__(self, flush_interval: float = 0.5) -> None:
        if (not isinstance(flush_interval, (int, float)) or isinstance(flush_interval, bool)
                or not 0 < flush_interval <= threading.TIMEOUT_MAX):  # fmt: skip
            from ._errors import BranchSettingError

            raise BranchSettingError(f"Invalid flush_interval {flush_interval!r}: expected a number of seconds > 0 and "
                              f"at most {threading.TIMEOUT_MAX:g}, such as 0.5.")  # fmt: skip
        self.flush_interval = float(flush_interval)
        self._pending: list[tuple[Branch, BranchSession]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: set[str] = set()
        reset_in_child(self)

    def _after_fork(self) -> None:
        """In a forked child: the parent writes what it recorded; this process gets its own writer thread.

        Subclasses extend it to drop their sessions, so the child records into sessions of its own.
        """
        self._pending = []
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._wake = threading.Event()
        self._thread = None

    @property
    def closed(self) -> bool:
        return self._closed

    def record(self, branch: Branch, session: BranchSession) -> None:
        with self._lock:
            if self._closed:
                raise LoggerClosedError(f"{type(self).__name__} is closed; branches can no longer be recorded.")
            self._pending.append((branch, session))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"runlab-{type(self).__name__}", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # keep going; reported once per kind
                message = f"{type(exc).__name__}: {exc}"
                if message not in self._reported:
                    self._reported.add(message)
                    print(f"runlab: {type(self).__name__} could not write branches: {message}", file=sys.__stderr__)

    def flush(self) -> None:
        """Write every branch recorded so far.

        Each session's branches are one :meth:`_write` batch: a session that cannot be written
        keeps its branches for the next flush (and the error is raised), while the others are
        written once.
        """
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            groups: dict[str, list[tuple[Branch, BranchSession]]] = {}
            for item in batch:
                groups.setdefault(item[1].id, []).append(item)
            failed: list[tuple[Branch, BranchSession]] = []
            error: BaseException | None = None
            for group in groups.values():
                if error is not None and not isinstance(error, Exception):  # KeyboardInterrupt: stop writing
                    failed.extend(group)
                    continue
                try:
                    self._write(group)
                except BaseException as exc:
                    failed.extend(group)
                    error = error or exc
            if error is not None:
                with self._lock:
                    self._pending[:0] = failed
                raise error

    def close(self) -> None:
        """Flush, end the sessions and stop the writer thread."""
        with self._write_lock:
            if self._closed:
                return
            try:
                self.flush()
            finally:
                with self._lock:
                    self._closed = True
                self._wake.set()
                self._finish()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _write(self, batch: Sequence[tuple[Branch, BranchSession]]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """End the sessions (called once, at close, after the last flush)."""


def count_by_status(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """``{status: count}`` of branch records."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts
