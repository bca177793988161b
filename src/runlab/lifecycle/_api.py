"""``runlab.start_run``: the one way every experiment style creates a run."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..hooks import activate
from ..store._api import get_store
from ..store._store import Store
from ._run import Run

__all__ = ["start_run"]


def start_run(
    namespace: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    root: str | os.PathLike[str] | Store | None = None,
    *,
    experiment: str | None = None,
    source: str | os.PathLike[str] | None = None,
    capture: bool = True,
    capture_output: bool = True,
    reproducible: bool = False,
) -> Run:
    """Create and start a run; use it as a context manager to finish it.

    Plugins see the run like any other: the process's plugins are activated first (once per
    process; see ``docs/plugins.md``), and a bad plugin configuration raises here, before
    anything is written. Leaving the ``with`` block normally completes the run; an exception fails it (type,
    message and traceback are recorded) and propagates; KeyboardInterrupt and SIGTERM
    cancel it and propagate.

    Args:
        namespace: group of runs (a folder under the root); default ``"default"``.
        name: a human name; runs can be looked up by it.
        params: parameter values (any JSON-serialisable values).
        tags: labels for filtering.
        description: free text.
        root: the store folder (default: ``RUNLAB_ROOT``, ``[tool.runlab] root`` or ``./runs``).
        experiment: the experiment's name (set by the experiment styles).
        source: the experiment's source file to snapshot (default: the ``__main__`` file).
        capture: record git state, environment, dependencies and a code snapshot.
        capture_output: copy stdout and stderr into ``out.log``.
        reproducible: also save what ``runlab reproduce`` needs to rebuild the run's
            environment (dependencies with their origins, editable packages' sources, imported
            local modules); see docs/reproduce.md.

    Example:
        >>> import runlab, tempfile
        >>> with runlab.start_run(namespace="demo", params={"lr": 0.01}, tags=["try"],
        ...                       root=tempfile.mkdtemp(), capture=False) as run:
        ...     run.log_metrics({"loss": 0.3, "acc": 0.8}, step=1)
        >>> run.status, sorted(runlab.load(run.id, root=run.store).summaries)
        ('completed', ['acc', 'loss'])
    """
    store = get_store(root)
    activate()
    run = Run.create(
        store=store,
        namespace=namespace,
        name=name,
        params=params,
        tags=tags,
        description=description,
        experiment=experiment,
        source=source,
        capture=capture,
        capture_output=capture_output,
        reproducible=reproducible,
    )
    return run.start()
