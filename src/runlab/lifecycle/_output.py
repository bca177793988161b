"""Copy the run's stdout and stderr into ``out.log`` while the terminal still shows them."""

from __future__ import annotations

import codecs
import os
import sys
import threading
import weakref
from pathlib import Path
from typing import IO, Any

__all__ = ["OutputCapture"]


class _Tee:
    """A text stream that writes to the original stream and to the log file."""

    def __init__(self, original: Any, log: IO[str], lock: threading.Lock) -> None:
        self._original = original
        self._log: IO[str] | None = log
        self._lock = lock
        self._buffer: _BufferTee | None = None

    def write(self, text: str) -> int:
        log = self._log
        if log is not None:
            with self._lock:
                try:
                    log.write(text)
                    if "\n" in text or "\r" in text:  # whole lines reach the file at once
                        log.flush()
                except (ValueError, OSError):
                    pass
        return self._original.write(text)  # type: ignore[no-any-return]

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._original.flush()

    @property
    def buffer(self) -> Any:
        """The binary stream under the text one: what is written to it reaches ``out.log`` as well."""
        raw = self._original.buffer
        tee = self._buffer
        if tee is None or tee._original is not raw:
            tee = self._buffer = _BufferTee(self, raw, getattr(self._original, "encoding", None) or "utf-8")
        return tee

    def detach_log(self) -> None:
        self._log = None

    def renew_lock(self, lock: threading.Lock) -> None:
        """A new lock (in a forked child: another thread of the parent may have held the old one)."""
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class _BufferTee:
    """``sys.stdout.buffer`` while a run copies stdout: bytes go to the terminal as they are, and to
    ``out.log`` decoded as the text stream would decode them (undecodable bytes replaced)."""

    def __init__(self, tee: _Tee, original: Any, encoding: str) -> None:
        self._tee = tee
        self._original = original
        try:
            self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        except LookupError:
            self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def write(self, data: Any) -> int:
        tee = self._tee
        log = tee._log
        if log is not None:
            with tee._lock:
                try:
                    text = self._decoder.decode(bytes(data))
                    log.write(text)
                    if "\n" in text or "\r" in text:
                        log.flush()
                except (TypeError, ValueError, OSError):  # not bytes: the original stream says so below
                    pass
        return self._original.write(data)  # type: ignore[no-any-return]

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def _live(stream: Any) -> Any:
    """``stream`` without the tees of runs that have ended (threads' runs may end in any order)."""
    while isinstance(stream, _Tee) and stream._log is None:
        stream = stream._original
    return stream


_CAPTURES: weakref.WeakSet[OutputCapture] = weakref.WeakSet()


def _flush_before_fork() -> None:
    """Write out the logs' buffered text, so a forked child does not write its copy of it again."""
    for capture in list(_CAPTURES):
        capture.flush_log()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_flush_before_fork)


class OutputCapture:
    """Replace ``sys.stdout``/``sys.stderr`` with tees into ``path`` until :meth:`stop`.

    Output written by other threads while the run is active is captured as well. Nested
    captures (a run inside a run) restore in order.
    """

    def __init__(self, path: Path) -> None:
        self._log = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._lock = lock = threading.Lock()
        self._out = _Tee(_live(sys.stdout), self._log, lock)
        self._err = _Tee(_live(sys.stderr), self._log, lock)
        sys.stdout = self._out  # type: ignore[assignment]
        sys.stderr = self._err  # type: ignore[assignment]
        _CAPTURES.add(self)

    def flush_log(self) -> None:
        """Write the log's buffered text to the file (before a fork)."""
        if not self._lock.acquire(timeout=1.0):
            return
        try:
            self._log.flush()
        except (ValueError, OSError):
            pass
        finally:
            self._lock.release()

    def after_fork(self) -> None:
        """In a forked child: new locks, so output never waits for a thread that does not exist there."""
        self._lock = lock = threading.Lock()
        self._out.renew_lock(lock)
        self._err.renew_lock(lock)

    def stop(self) -> None:
        for name, tee in (("stdout", self._out), ("stderr", self._err)):
            tee.detach_log()
            if getattr(sys, name) is tee:
                setattr(sys, name, _live(tee._original))
        _CAPTURES.discard(self)
        self._log.close()
