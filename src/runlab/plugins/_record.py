"""Writing plugin records into a run's ``run.json`` (its ``plugins`` section).

Until the run core has a public method for it, this module updates ``run._meta`` under
``run._meta_lock``: a live run writes through ``run._write_meta()``; a finished run's
record is written with ``Store.save`` (``run.json`` atomically, then the index row). The
in-memory record is updated too, so a concurrent ``finish()`` keeps the entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["note_plugins", "record_failure"]

_FINISHED = {"completed", "failed", "cancelled", "crashed"}


def _is_run(run: Any) -> bool:
    return hasattr(run, "_meta") and hasattr(run, "_meta_lock") and hasattr(run, "path")


def note_plugins(run: Any, plugins: dict[str, dict[str, Any]]) -> None:
    """Record the active plugins (name -> version, source) in a new run's record; no write."""
    if not _is_run(run):
        return
    with run._meta_lock:
        section = run._meta.setdefault("plugins", {})
        for name, info in plugins.items():
            section.setdefault(name, {}).update(info)


def record_failure(run: Any, plugin: str, entry: dict[str, Any], state: str = "error") -> bool:
    """Append ``entry`` to ``plugins.PLUGIN.errors`` of ``run``'s record and write it.

    Returns False when ``run`` is not a live :class:`runlab.Run` (nothing recorded).
    """
    if not _is_run(run):
        return False
    entry = {"time": datetime.now().astimezone().isoformat(), **entry}
    with run._meta_lock:
        section = run._meta.setdefault("plugins", {})
        record = section.setdefault(plugin, {})
        record["state"] = state
        record.setdefault("errors", []).append(entry)
        if run.status in _FINISHED:
            run.store.save(run.path, run._meta)
        else:
            run._write_meta()
    return True
