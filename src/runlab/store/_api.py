"""Module-level query functions: :func:`runs` and :func:`load`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ._records import RunRecord, RunSet
from ._root import resolve_root
from ._store import Store

__all__ = ["get_store", "load", "runs"]

_STORES: dict[tuple[int, Path], Store] = {}


def get_store(root: str | os.PathLike[str] | Store | None = None) -> Store:
    """The :class:`Store` for ``root`` (resolved as in :func:`resolve_root`), shared per process."""
    if isinstance(root, Store):
        return root
    path = resolve_root(root)
    key = (os.getpid(), path)
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = Store(path)
    return store


def runs(
    where: str | None = None,
    namespace: str | None = None,
    status: str | Iterable[str] | None = None,
    tags: str | Iterable[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    limit: int | None = None,
    root: str | os.PathLike[str] | Store | None = None,
    archived: bool | None = False,
) -> RunSet:
    """Query the runs of a store.

    Args:
        where: a filter expression, e.g. ``"params.lr < 0.01 and metrics.acc.max > 0.9"``.
            Fields: ``params.X``, ``metrics.X`` (last value) with ``.min``, ``.max``,
            ``.count``, ``.step``, and ``status``, ``name``, ``namespace``, ``experiment``,
            ``tags``, ``created``, ``started``, ``ended``, ``duration``, ``id``. Operators
            ``== != < <= > >= in, not in``, combined with ``and``, ``or``, ``not`` and
            parentheses. Compiled to SQL with bound values, never evaluated.
        namespace: only runs of this namespace.
        status: a status or several (``crashed``: runs whose process died; ``damaged``: runs
            whose ``run.json`` cannot be read, see ``RunRecord.problem``).
        tags: a tag or several; runs must have all of them.
        order_by: fields as in ``where``, ``-`` for descending, e.g. ``"-metrics.acc"``;
            default ``"created"``.
        limit: at most this many runs.
        root: the store (default: see :func:`runlab.store.resolve_root`).
        archived: False (default) for the store's runs, True for its archived runs
            (``runlab archive``), None for both in one result (``RunRecord.archived`` tells).

    Returns:
        A :class:`RunSet` of frozen :class:`RunRecord` objects.

    Example:
        >>> import runlab, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for a in range(4):
        ...     with runlab.start_run(params={"a": a}, root=root, capture=False) as run:
        ...         run.log_metric("score", a * 10)
        >>> [r.params["a"] for r in runlab.runs(where="metrics.score >= 20", order_by="-params.a", root=root)]
        [3, 2]
    """
    return get_store(root).runs(
        where=where, namespace=namespace, status=status, tags=tags, order_by=order_by, limit=limit, archived=archived
    )


def load(ref: str, root: str | os.PathLike[str] | Store | None = None) -> RunRecord:
    """One run, by full ID, unique ID prefix or name.

    Raises:
        RunNotFoundError: no run matches.
        AmbiguousRunError: several runs match; the message lists them.

    Example:
        >>> import runlab, tempfile
        >>> root = tempfile.mkdtemp()
        >>> with runlab.start_run(name="baseline", root=root, capture=False) as run:
        ...     run.log_metric("acc", 0.9)
        >>> runlab.load("baseline", root=root).metrics("acc").values
        [0.9]
    """
    return get_store(root).load(ref)
