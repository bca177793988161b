"""Running ``runlab`` as a real subprocess on a pseudo-terminal of a given size (and in a pipe).

The child resets SIGINT to Python's default handler itself, so a test sending it Ctrl-C
works in the foreground and as a background job (where SIGINT is inherited as ignored).
``PYTHONPATH`` points at this tree's ``src``, so the subprocess runs the code under test.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
_BOOT = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from runlab.cli import main; sys.argv[0] = 'runlab'; main(sys.argv[1:])"
)


def runlab_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), **(extra or {})}
    env.pop("NO_COLOR", None)
    return env


def runlab_command(*args: str) -> list[str]:
    """The command line of ``runlab ARGS`` with SIGINT handled (see the module docstring)."""
    return [sys.executable, "-c", _BOOT, *args]


class TerminalRun:
    """A ``runlab`` subprocess whose stdout and stderr are a pseudo-terminal ``columns`` wide."""

    def __init__(self, args: Sequence[str], columns: int = 80, lines: int = 40, env: dict[str, str] | None = None):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        extra = {"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines), **(env or {})}
        self.proc = subprocess.Popen(
            runlab_command(*args), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=runlab_env(extra),
            close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self._master = master
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            self._chunks.append(data)

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.output):
                return True
            if self.proc.poll() is not None:
                self._reader.join(timeout=5)
                return predicate(self.output)
            time.sleep(0.05)
        return False

    def interrupt(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        os.close(self._master)
        return code, self.output


def run_in_terminal(args: Sequence[str], columns: int = 80, timeout: float = 60) -> tuple[int, str]:
    """Run ``runlab ARGS`` to the end on a terminal ``columns`` wide: ``(exit code, output)``."""
    return TerminalRun(args, columns).finish(timeout)
