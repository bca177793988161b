"""Shell completion of run IDs and names (``shell_complete`` on every ID argument) and of experiment files."""

from __future__ import annotations

from typing import Any

import click


def complete_run_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Run IDs starting with ``incomplete`` (and run names starting with it), newest first.

    Never raises: a missing or unreadable store completes nothing.
    """
    from click.shell_completion import CompletionItem

    try:
        from ..store import get_store

        root_ctx = ctx.find_root()
        root = (root_ctx.obj or {}).get("root") or root_ctx.params.get("root") or ctx.params.get("root")
        store = get_store(root)
        if not store.root.is_dir():
            return []
        like = incomplete.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = store.index.execute(
            "SELECT id, name, status FROM runs WHERE id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' "
            "ORDER BY created DESC LIMIT 50",
            (like, like),
        )
    except Exception:  # completion must never fail loudly
        return []
    items = []
    for rid, name, status in rows:
        value = rid if rid.startswith(incomplete) or not name else name
        items.append(CompletionItem(value, help=f"{name or ''} {status}".strip()))
    return items


def complete_path(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Let the shell complete file names (an experiment ``PATH`` is text, as it may end in ``:FUNCTION``)."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]
