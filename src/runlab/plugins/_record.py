"""Writing plugin records into a run's ``run.json`` (its ``plugins`` section).

Failures go through :meth:`runlab.Run.record_plugin`. :func:`note_plugins` adds the active
plugins to a new run's in-memory record (written with the run's next save, so a run costs
no extra write for it).
"""

from __future__ import annotations

from typing import Any

__all__ = ["note_plugins", "record_failure"]


def _is_run(run: Any) -> bool:
    return callable(getattr(run, "record_plugin", None)) and hasattr(run, "path")


def note_plugins(run: Any, plugins: dict[str, dict[str, Any]]) -> None:
    """Record the active plugins (name -> version, source) in a new run's record; no write."""
    if not _is_run(run):
        return
    for name, info in plugins.items():
        run.record_plugin(name, save=False, **info)


def record_failure(run: Any, plugin: str, entry: dict[str, Any], state: str = "error") -> bool:
    """Append ``entry`` to ``plugins.PLUGIN.errors`` of ``run``'s record and write it.

    Returns False when ``run`` is not a live :class:`runlab.Run` (nothing recorded).
    """
    if not _is_run(run):
        return False
    run.record_plugin(plugin, state=state, error=entry)
    return True
