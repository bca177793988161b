"""The cache switch around a run's code, without importing the cache where it cannot matter.

Example:
    >>> with run_caching(True):
    ...     pass  # the code of a run with __CACHING__ on
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext

__all__ = ["run_caching"]


def run_caching(enabled: bool) -> AbstractContextManager[None]:
    """:func:`runlab.cache.caching` for a run whose ``__CACHING__`` is ``enabled``.

    Loading cached results is on unless a ``caching(False)`` is active, which needs the cache
    loaded; so a run with ``__CACHING__`` on, in a process that never loaded the cache, needs no
    switch, and a trivial run does not pay for importing the cache (pickle, hashlib).
    """
    if enabled and "runlab.cache._cache" not in sys.modules:
        return nullcontext()
    from ..cache import caching

    return caching(enabled)
