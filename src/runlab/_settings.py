"""Numeric settings read from environment variables, checked once where they are read.

Example:
    >>> import os
    >>> os.environ["RUNLAB_DEMO_SECONDS"] = "2.5"
    >>> env_number("RUNLAB_DEMO_SECONDS", 1.0, 0.01)
    2.5
    >>> os.environ["RUNLAB_DEMO_SECONDS"] = "nan"
    >>> env_number("RUNLAB_DEMO_SECONDS", 1.0, 0.01)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runlab.errors.UsageError: Invalid RUNLAB_DEMO_SECONDS='nan': expected a number of seconds of at least 0.01, ...
"""

from __future__ import annotations

import os
import threading
from typing import TypeVar

from .errors import UsageError

__all__ = ["env_number"]

N = TypeVar("N", int, float)


def env_number(name: str, default: N, minimum: N, error: type[Exception] = UsageError) -> N:
    """The number in environment variable ``name`` (of ``default``'s type), else ``default``.

    An unset or blank variable gives ``default``. Text that is not a number of that type, NaN,
    a value below ``minimum`` or one too large to wait for (``threading.TIMEOUT_MAX``) raises
    ``error`` naming the variable, its value and what is expected.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    kind = type(default)
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= threading.TIMEOUT_MAX:  # NaN fails the comparison too
        what = "a whole number" if kind is int else "a number of seconds"
        raise error(
            f"Invalid {name}={text!r}: expected {what} of at least {minimum}, such as {default}. "
            "Fix or unset the environment variable."
        )
    return value
