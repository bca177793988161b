"""Copy the run's stdout and stderr into ``out.log`` while the terminal still shows them."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import IO, Any

__all__ = ["OutputCapture"]


class _Tee:
    """A text stream that writes to the original stream and to the log file."""

    def __init__(self, original: Any, log: IO[str], lock: threading.Lock) -> None:
        self._original = original
        self._log: IO[str] | None = log
        self._lock = lock

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

    def detach_log(self) -> None:
        self._log = None

    def renew_lock(self, lock: threading.Lock) -> None:
        """A new lock (in a forked child: another thread of the parent may have held the old one)."""
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class OutputCapture:
    """Replace ``sys.stdout``/``sys.stderr`` with tees into ``path`` until :meth:`stop`.

    Output written by other threads while the run is active is captured as well. Nested
    captures (a run inside a run) restore in order.
    """

    def __init__(self, path: Path) -> None:
        self._log = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        lock = threading.Lock()
        self._out = _Tee(sys.stdout, self._log, lock)
        self._err = _Tee(sys.stderr, self._log, lock)
        sys.stdout = self._out  # type: ignore[assignment]
        sys.stderr = self._err  # type: ignore[assignment]

    def after_fork(self) -> None:
        """In a forked child: new locks, so output never waits for a thread that does not exist there."""
        lock = threading.Lock()
        self._out.renew_lock(lock)
        self._err.renew_lock(lock)

    def stop(self) -> None:
        for name, tee in (("stdout", self._out), ("stderr", self._err)):
            tee.detach_log()
            if getattr(sys, name) is tee:
                setattr(sys, name, tee._original)
        self._log.close()
