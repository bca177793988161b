"""Results helpers over :func:`runlab.runs`: :func:`best`, :func:`latest` and :func:`compare`.

Yanex's ``yanex.results`` names (``get_best``, ``get_latest``, ``compare``) map to these;
each is one query of the index, so they cost what ``runlab.runs`` costs.

Example:
    >>> import runlab, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for lr in (0.1, 0.01, 0.001):
    ...     with runlab.start_run(name=f"lr{lr}", params={"lr": lr}, root=root, capture=False) as run:
    ...         run.log_metric("acc", {0.1: 0.7, 0.01: 0.9, 0.001: 0.8}[lr])
    >>> runlab.best("acc", root=root).name, runlab.best("acc", maximize=False, root=root).name
    ('lr0.01', 'lr0.1')
    >>> runlab.latest(root=root).name
    'lr0.001'
    >>> runlab.compare(["lr0.1", "lr0.01"], root=root)[["name", "params.lr", "metrics.acc"]].values.tolist()
    [['lr0.1', 0.1, 0.7], ['lr0.01', 0.01, 0.9]]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..errors import UsageError
from ._api import get_store
from ._records import RunRecord, RunSet
from ._store import Store

if TYPE_CHECKING:
    import pandas

__all__ = ["best", "compare", "latest"]

_METRIC = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-/.]*")


def _where(*parts: str | None) -> str | None:
    given = [f"({p})" for p in parts if p]
    return " and ".join(given) or None


def best(
    metric: str,
    maximize: bool = True,
    *,
    where: str | None = None,
    namespace: str | None = None,
    status: str | Iterable[str] | None = "completed",
    tags: str | Iterable[str] | None = None,
    root: str | os.PathLike[str] | Store | None = None,
) -> RunRecord | None:
    """The run with the highest (``maximize=False``: lowest) value of ``metric``, or None.

    Args:
        metric: a metric name; its last value counts, or name an aggregate as in filters
            (``"loss.min"``, ``"acc.max"``). Runs without the metric are skipped.
        maximize: highest value wins (Yanex's default); False for the lowest.
        where, namespace, tags: narrow the runs as in :func:`runlab.runs`.
        status: only runs of this status (default ``"completed"``; None for any).
        root: the store.

    Raises:
        UsageError: ``metric`` is not a metric name.
    """
    if not isinstance(metric, str) or not _METRIC.fullmatch(metric):
        raise UsageError(
            f"Invalid metric name {metric!r}: expected a name such as 'loss' or 'acc.max' "
            "(letters, digits, _, -, / and dots)."
        )
    field = f"metrics.{metric}"
    found = get_store(root).runs(
        where=_where(where, f"{field} != null"),
        namespace=namespace,
        status=status,
        tags=tags,
        order_by=("-" if maximize else "") + field,
        limit=1,
    )
    return found[0] if found else None


def latest(
    where: str | None = None,
    *,
    namespace: str | None = None,
    status: str | Iterable[str] | None = None,
    tags: str | Iterable[str] | None = None,
    root: str | os.PathLike[str] | Store | None = None,
) -> RunRecord | None:
    """The most recently created run matching the filters (as in :func:`runlab.runs`), or None."""
    found = get_store(root).runs(where=where, namespace=namespace, status=status, tags=tags,
                                 order_by="-created", limit=1)  # fmt: skip
    return found[0] if found else None


def compare(
    ids: Sequence[str] | str,
    params: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    *,
    root: str | os.PathLike[str] | Store | None = None,
) -> pandas.DataFrame:
    """A table of runs side by side: one row per run, in the order given (needs pandas).

    Args:
        ids: run IDs, ID prefixes or names.
        params: only these ``params.X`` columns (default: all).
        metrics: only these ``metrics.X`` columns (default: all, with their aggregates).
        root: the store.

    Raises:
        RunNotFoundError, AmbiguousRunError: a reference does not name exactly one run.
    """
    store = get_store(root)
    refs = [ids] if isinstance(ids, str) else list(ids)
    full = [store.resolve(ref)[0] for ref in refs]
    found = store.runs(where=_where("id in [" + ", ".join(repr(i) for i in full) + "]"))
    by_id = {r.id: i for i, r in enumerate(found)}
    frame = RunSet([found._rows[by_id[i]] for i in dict.fromkeys(full)], store.root).to_pandas()
    keep = [c for c in frame.columns if not c.startswith(("params.", "metrics."))]
    for prefix, chosen in (("params.", params), ("metrics.", metrics)):
        cols = [c for c in frame.columns if c.startswith(prefix)]
        if chosen is not None:
            wanted = {prefix + name for name in chosen}
            cols = [c for c in cols if c in wanted or (prefix == "metrics." and c.rsplit(".", 1)[0] in wanted)]
        keep.extend(cols)
    return frame[keep]
