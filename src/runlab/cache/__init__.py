"""Cache expensive steps: results stored under ``<root>/.runlab/cache/``, shared across runs.

Example:
    >>> import runlab, tempfile
    >>> @runlab.cached("features", scope=("data", "v1"), root=tempfile.mkdtemp())
    ... def features(n):
    ...     return [i * i for i in range(n)]
    >>> features(4)
    [0, 1, 4, 9]
"""

from ._backends import BACKENDS, Backend, get_backend
from ._cache import Cache, CacheEntry, cached, caching, default_cache

__all__ = ["BACKENDS", "Backend", "Cache", "CacheEntry", "cached", "caching", "default_cache", "get_backend"]
