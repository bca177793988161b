"""Output helpers: a rich table on a terminal, aligned plain text in a pipe, JSON on request."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

__all__ = ["format_duration", "format_time", "format_value", "is_terminal", "print_table", "STATUS_STYLE"]

STATUS_STYLE = {
    "created": "dim",
    "running": "cyan",
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "crashed": "magenta",
}


def is_terminal() -> bool:
    """True when stdout is an interactive terminal (rich output), False in a pipe."""
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_value(value: Any, width: int = 40) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif value is None:
        text = "-"
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(
    title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], styles: dict[int, list[str]] | None = None
) -> None:
    """Print rows as a table: rich on a terminal, aligned text otherwise.

    Args:
        styles: per column index, a rich style per row (used on a terminal only).
    """
    if is_terminal():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, header_style="bold", box=None, pad_edge=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for i, row in enumerate(rows):
            cells = [
                f"[{styles[c][i]}]{cell}[/]" if styles and c in styles and styles[c][i] else cell
                for c, cell in enumerate(row)
            ]
            table.add_row(*cells)
        Console().print(table)
        return
    widths = [len(h) for h in headers]
    for row in rows:
        for c, cell in enumerate(row):
            widths[c] = max(widths[c], len(cell))
    out = [("  ".join(h.ljust(widths[c]) for c, h in enumerate(headers))).rstrip()]
    out.extend(("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row))).rstrip() for row in rows)
    click.echo("\n".join(out))
