"""The store: run folders plus an SQLite index, and queries over them."""

from ._api import get_store, load, runs
from ._index import effective_status
from ._metrics_file import MetricSeries, read_metrics
from ._rebuild import IndexCheck, RebuildReport
from ._records import MetricSummary, RunRecord, RunSet
from ._results import best, compare, latest
from ._root import resolve_root
from ._status import RunStatus
from ._store import RunlabWarning, Store, validate_namespace

__all__ = [
    "IndexCheck",
    "MetricSeries",
    "MetricSummary",
    "RebuildReport",
    "RunRecord",
    "RunSet",
    "RunStatus",
    "RunlabWarning",
    "Store",
    "best",
    "compare",
    "effective_status",
    "get_store",
    "latest",
    "load",
    "read_metrics",
    "resolve_root",
    "runs",
    "validate_namespace",
]
