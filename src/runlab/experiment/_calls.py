"""Running what the user's main function gave to its end (kept small: every functional run imports it)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["run_to_end"]


def run_to_end(func: Callable[..., Any], result: Any) -> Any:
    """What calling ``func`` gave, run to its end: a coroutine with :func:`asyncio.run`; the generator of
    a generator function (``yield`` in a main function) exhausted, its ``return`` value being the result
    (what it yields is not kept). Anything else is the result as it is.

    Example:
        >>> def main():
        ...     done = []
        ...     for step in range(3):
        ...         done.append(step)
        ...         yield step
        ...     return done
        >>> run_to_end(main, main())
        [0, 1, 2]
    """
    if inspect.iscoroutine(result):
        import asyncio  # only for coroutine functions: asyncio is slow to import

        return asyncio.run(result)
    if inspect.isgenerator(result) and inspect.isgeneratorfunction(func):
        while True:
            try:
                next(result)
            except StopIteration as stop:
                return stop.value
    if inspect.isasyncgen(result) and inspect.isasyncgenfunction(func):
        import asyncio

        async def drain() -> None:
            async for _ in result:
                pass

        return asyncio.run(drain())
    return result
