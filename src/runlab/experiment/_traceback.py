"""The user's part of a traceback: what ``runlab run`` prints when an experiment fails.

The frames of runlab's own modules (the command, the request, the loader, the driver) sit
between the command line and the user's code; they say nothing about the user's error, so
:func:`print_user_traceback` leaves them out unless ``debug`` is set (``runlab --debug run``
or ``RUNLAB_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import TextIO

__all__ = ["print_user_traceback", "user_frames"]

_PACKAGE = str(Path(__file__).resolve().parents[1]) + os.sep


def _is_runlab(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE)


def user_frames(error: BaseException) -> traceback.StackSummary:
    """The frames of ``error``'s traceback outside runlab's package (all of them when none is outside)."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if not _is_runlab(f.filename)]
    return traceback.StackSummary.from_list(mine or frames)


def print_user_traceback(error: BaseException, *, debug: bool | None = None, file: TextIO | None = None) -> None:
    """Print ``error`` as Python would, without runlab's own frames unless ``debug``.

    Example:
        >>> try:
        ...     int("x")
        ... except ValueError as exc:
        ...     print_user_traceback(exc, file=sys.stdout)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: invalid literal for int() with base 10: 'x'
    """
    out = file or sys.stderr
    if debug is None:
        debug = os.environ.get("RUNLAB_DEBUG", "") not in ("", "0")
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__, file=out)
        return
    lines = ["Traceback (most recent call last):\n", *user_frames(error).format()]
    lines += traceback.format_exception_only(type(error), error)
    out.write("".join(lines))
