"""Output helpers: a rich table on a terminal, aligned plain text in a pipe, JSON on request."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

__all__ = [
    "FORMATS",
    "emit",
    "sparkline",
    "use_color",
    "format_duration",
    "format_time",
    "format_value",
    "is_terminal",
    "print_table",
    "STATUS_STYLE",
    "cell_text",
    "fit_columns",
    "json_text",
    "one_line",
    "terminal_width",
    "text_width",
]

STATUS_STYLE = {
    "created": "dim",
    "running": "cyan",
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "crashed": "magenta",
    "pruned": "blue",
    "damaged": "red",
}


def is_terminal() -> bool:
    """True when stdout is an interactive terminal (rich output), False in a pipe."""
    out = sys.stdout  # None when the command runs with stdout closed (runlab list >&-)
    return out is not None and out.isatty() and os.environ.get("TERM") != "dumb"


_ESCAPES = {**{c: f"\\x{c:02x}" for c in (*range(32), *range(127, 160))}, 9: "\\t", 10: "\\n", 13: "\\r"}


def one_line(text: str) -> str:
    """``text`` for one line of a table: newlines, tabs and other control characters (a terminal's
    escape sequences too) written as escapes, so that a value cannot break a row or the terminal.

    Example:
        >>> one_line("a,b\\n\\x1b[2J")
        'a,b\\\\n\\\\x1b[2J'
    """
    return text if text.isprintable() else text.translate(_ESCAPES)


def text_width(text: str) -> int:
    """The columns ``text`` takes on a terminal: wide (East Asian) characters take two, combining ones none.

    Example:
        >>> text_width("abc"), text_width("名前"), text_width("e\\u0301")
        (3, 4, 1)
    """
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(c) else 2 if east_asian_width(c) in "WF" else 1 for c in text)


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
        text = one_line(str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def terminal_width() -> int:
    """The terminal's width in columns (``COLUMNS`` wins, as for rich; 80 when unknown)."""
    from rich.console import Console

    return Console().width


def fit_columns(headers: Sequence[str], rows: Sequence[Sequence[str]], fixed: int, width: int,
                keep: Sequence[int] = (), cap: int = 24, least: int = 6) -> list[int]:  # fmt: skip
    """The indexes of the columns that fit in ``width``, in order: the first always, then each one
    that still fits (a wide column may be left out while a later, narrower one is shown).

    A column needs a 2-space gap plus its widest cell or header when it is in ``keep`` (IDs, states
    and dates never shrink); one of the first ``fixed`` others (a name) shrinks with "…" down to
    ``least``; a further one needs its width up to ``cap``.

    Example:
        >>> fit_columns(["id", "a", "b"], [["3f2a9c01", "1", "22"]], fixed=1, width=14)
        [0, 1]
        >>> fit_columns(["id", "started", "n"], [["3f2a9c01", "2026-01-01 00:00:00", "7"]], 2, 20, keep=[0, 1])
        [0, 2]
    """
    widths = [max([text_width(h), *(text_width(r[c]) for r in rows)]) for c, h in enumerate(headers)]
    shown = [0]
    used = widths[0]
    for c in range(1, len(headers)):
        need = widths[c] if c in keep else min(widths[c], least if c < fixed else cap)
        if used + 2 + need <= width:
            shown.append(c)
            used += 2 + need
    return shown


def print_table(
    title: str | None,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: dict[int, list[str]] | None = None,
    keep: Sequence[int] = (),
) -> None:
    """Print rows as a table: rich on a terminal, aligned text otherwise (cells pass :func:`one_line`;
    wide characters count twice).

    Args:
        styles: per column index, a rich style per row (used on a terminal only).
        keep: column indexes whose cells never wrap or shrink (IDs, states, dates); on a
            terminal the other columns then shrink with "…" instead of wrapping.
    """
    headers = [one_line(h) for h in headers]
    rows = [[one_line(cell) for cell in row] for row in rows]
    if is_terminal():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=title, header_style="bold", box=None, pad_edge=False)
        for c, header in enumerate(headers):
            if not keep:
                table.add_column(header, overflow="fold")
            elif c in keep:
                widest = max([len(header), *(len(r[c]) for r in rows)])
                table.add_column(header, no_wrap=True, min_width=widest)
            else:
                table.add_column(header, no_wrap=True, overflow="ellipsis")
        for i, row in enumerate(rows):
            cells = [
                f"[{styles[c][i]}]{escape(cell)}[/]" if styles and c in styles and styles[c][i] else escape(cell)
                for c, cell in enumerate(row)
            ]
            table.add_row(*cells)
        Console().print(table)
        return
    widths = [text_width(h) for h in headers]
    for row in rows:
        for c, cell in enumerate(row):
            widths[c] = max(widths[c], text_width(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell + " " * (widths[c] - text_width(cell)) for c, cell in enumerate(cells)).rstrip()

    click.echo("\n".join([line(headers), *(line(row) for row in rows)]))


FORMATS = ("table", "json", "csv", "markdown")
_SPARKS = "▁▂▃▄▅▆▇█"


def use_color() -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    return is_terminal() and not os.environ.get("NO_COLOR")


def sparkline(values: Sequence[float], width: int = 24) -> str:
    """A one-line chart of ``values`` (resampled to ``width`` points; non-finite values skipped).

    Example:
        >>> sparkline([1, 2, 3, 4])
        '▁▃▆█'
    """
    finite = [float(v) for v in values if isinstance(v, (int, float)) and v == v and abs(v) != float("inf")]
    if not finite:
        return ""
    if len(finite) > width:
        step = len(finite) / width
        finite = [finite[int(i * step)] for i in range(width - 1)] + [finite[-1]]
    lo, hi = min(finite), max(finite)
    span = hi - lo
    if span == 0:
        return _SPARKS[3] * len(finite)
    return "".join(_SPARKS[min(7, int((v - lo) / span * 7 + 0.5))] for v in finite)


def emit(
    fmt: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    styles: dict[int, list[str]] | None = None,
    title: str | None = None,
    keep: Sequence[int] = (),
) -> None:
    """Print rows in one of :data:`FORMATS`: json (a list of objects), csv, markdown or a table.

    Rows hold raw values; json (:func:`json_text`) and csv show numbers exactly, the table and
    markdown with :func:`format_value`.
    """
    if fmt == "json":
        click.echo(json_text([dict(zip(headers, row, strict=False)) for row in rows]))
    elif fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(
            [["" if v is None else repr(v) if isinstance(v, float) else _plain(v) for v in row] for row in rows]
        )
        click.echo(buffer.getvalue(), nl=False)
    elif fmt == "markdown":

        def cell(v: Any) -> str:
            return _plain(v).replace("|", "\\|").replace("\n", " ")

        out = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        click.echo("\n".join(out))
    else:
        print_table(title, headers, [[_cell(v) for v in row] for row in rows], styles if use_color() else None, keep)


def json_text(value: Any) -> str:
    """``value`` as indented JSON for the command line: NaN and the infinities as the texts the run's
    files hold (``"NaN"``, ``"Infinity"``, ``"-Infinity"``); JSON has no such numbers, and written as
    ``null`` a diverged metric would read as a missing one.

    Example:
        >>> json_text({"loss": [float("nan"), -float("inf"), 0.5]}).split()
        ['{', '"loss":', '[', '"NaN",', '"-Infinity",', '0.5', ']', '}']
    """
    from ..store._files import dumps

    return dumps(_finite(value)).decode()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        from ..store._metrics_file import number_text

        return number_text(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, dict):
        from ..store._files import dumps

        return dumps(value, indent=False).decode()
    return str(value)


def cell_text(value: Any) -> str:
    """How :func:`emit` shows ``value`` in a table cell."""
    return value if isinstance(value, str) else format_value(_plain(value) if value is not None else None, 40)


_cell = cell_text
