"""``runlab show``."""

from __future__ import annotations

from typing import Any

import click

from ._complete import complete_run_id
from ._main import cli, get_store, root_option
from ._render import (
    format_duration,
    format_time,
    format_value,
    json_text,
    one_line,
    print_table,
    sparkline,
    use_color,
)

STATUS_COLOR = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "crashed": "magenta",
    "running": "cyan",
    "pruned": "blue",
    "damaged": "red",
}


def _section(title: str) -> None:
    if use_color():
        click.secho(f"\n{title}", bold=True)
    else:
        click.echo(f"\n{title}")


def _store_and_ref(ctx: click.Context, run_ref: str) -> tuple[Any, str]:
    """A run folder's path stands for its run, in the store the folder belongs to."""
    from pathlib import Path

    path = Path(run_ref)
    folder = path.parent if path.name == "run.json" else path
    if not (folder / "run.json").is_file():
        return get_store(ctx), run_ref
    from ..errors import RunNotFoundError
    from ..experiment._archive import find_archive
    from ..store._runfile import read_run_file

    folder, store = find_archive(folder)  # the folder's own store, whatever --root says
    found = read_run_file(folder, store.root)
    try:
        store.resolve(found.run_id)
    except RunNotFoundError:
        raise RunNotFoundError(
            f"The run folder {folder} is not in the index of its store {store.root}. Run "
            f"'runlab index rebuild --root {store.root}' to add it."
        ) from None
    return store, found.run_id


@cli.command("show")
@click.argument("run_ref", metavar="ID", shell_complete=complete_run_id)
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@root_option
@click.pass_context
def show(ctx: click.Context, run_ref: str, fmt: str) -> None:
    """Show one run: parameters, metrics, data, artifacts, git, environment and error.

    ID is a full run ID, a unique prefix of one, a run name, or the path of a run's folder
    (as PyComex's archive folders are given). A name used by several runs shows the latest
    (with a note); NAME~1 is the one before it, NAME~2 the one before that.

    \b
    Examples:
      runlab show 3f2a9c1b
      runlab show baseline --format json
      runlab show baseline~1      # the run called baseline before the latest
      runlab show results/train/2026-11-28__10-00-00__3f2a9c1b
    """
    from ._refs import find_named

    store, ref = _store_and_ref(ctx, run_ref)
    _, record = find_named(store, ref)
    archived = record.archived
    meta, data, problems = _read_files(record)
    if fmt == "json":
        click.echo(
            json_text(
                {**record.to_dict(), "data": data, "artifacts": record.artifacts, "run": meta, "problems": problems}
            )
        )
        return
    status = record.status
    status_text = click.style(status, fg=STATUS_COLOR.get(status)) if use_color() else status
    if archived:
        status_text += " (archived)"
    lines = [
        ("id", record.id), ("name", record.name or "-"), ("namespace", record.namespace),
        ("experiment", record.experiment or "-"), ("status", status_text),
        ("created", format_time(record.created)), ("started", format_time(record.started)),
        ("ended", format_time(record.ended)), ("duration", format_duration(record.duration)),
        ("tags", ", ".join(record.tags) or "-"), ("path", str(record.path)),
    ]  # fmt: skip
    if record.description:
        lines.append(("description", record.description))
    for link in ("parent", "sweep", "study"):
        if getattr(record, link):
            lines.append((link, getattr(record, link)))
    if record.study and meta.get("trial") is not None:
        lines.append(("trial", f"{meta['trial']} (runlab study show {record.study})"))
    attempts = meta.get("attempts") or []
    if len(attempts) > 1:
        lines.append(("attempts", "; ".join(
            f"{a.get('status')} {format_time(_when(a.get('start')))} on {a.get('host')} (pid {a.get('pid')})"
            for a in attempts
        )))  # fmt: skip
    if meta.get("rerun_of"):
        lines.append(("rerun of", meta["rerun_of"]))
    origin = meta.get("origin") or {}
    if origin.get("path"):
        lines.append(("started from", f"{origin['path']} ({origin.get('style', '?')})"))
    if status == "running":
        lines.append(("live", _next_update(meta, bool(record.summaries))))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:  # a description keeps its lines, indented under the value column
        shown = value if key == "status" else _lines(str(value), " " * (width + 2))  # status: maybe coloured
        click.echo(f"{key.ljust(width)}  {shown}")

    params = meta.get("params") or {name: {"value": value} for name, value in record.params.items()}
    if params:
        _section("Parameters")
        print_table(None, ["name", "value", "type", "description"], [
            [k, format_value(p.get("value") if isinstance(p, dict) else p, 60), str((p or {}).get("type") or "-"),
             str((p or {}).get("description") or "")] for k, p in params.items()
        ])  # fmt: skip
    if record.summaries:
        _section("Metrics")
        series = _series(record)
        print_table(None, ["name", "last", "min", "max", "count", "last step", "history"], [
            [k, format_value(s.last), format_value(s.min), format_value(s.max), str(s.count), format_value(s.step),
             sparkline(series[k].values) if k in series else ""]
            for k, s in record.summaries.items()
        ])  # fmt: skip
    if data:
        _section("Data")
        for key, value in _flatten(data):
            click.echo(f"  {key} = {format_value(value, 80)}")
    artifacts = record.artifacts
    if artifacts:
        _section("Artifacts")
        for name in artifacts:
            click.echo(f"  {name}")
    git = meta.get("git") or {}
    if git.get("repository"):
        _section("Git")
        click.echo(f"  commit {git.get('commit') or '(no commits)'} on {git.get('branch') or '(detached)'}"
                   f"{' (dirty: code/git.patch)' if git.get('dirty') else ''}")  # fmt: skip
        if git.get("remote"):
            click.echo(f"  remote {git['remote']}")
    env = meta.get("env") or {}
    if env:
        _section("Environment")
        python = env.get("python") or {}
        click.echo(f"  Python {python.get('version')} ({python.get('executable')}) on {env.get('host')}, "
                   f"user {env.get('user')}, {env.get('cpu_count')} CPUs")  # fmt: skip
        for gpu in env.get("gpus") or []:
            memory = gpu.get("memory_bytes")
            size = f", {memory / 2**30:.0f} GiB" if isinstance(memory, (int, float)) else ""
            click.echo(f"  GPU {gpu.get('index')}: {gpu.get('name')}{size}, driver {gpu.get('driver') or '?'}")
    _plugin_records(meta)
    error = meta.get("error")
    if error:
        _section("Error")
        click.echo(f"  {error.get('type') or 'Error'}: " + _lines(str(error.get("message")), "    "))
        if error.get("traceback"):
            click.echo("  " + error["traceback"].rstrip().replace("\n", "\n  "))
    if problems:
        _section("Damaged files")
        for problem in problems:
            click.echo(f"  {problem}")


def _lines(text: str, indent: str) -> str:
    """``text`` with its lines after the first indented, each line passed through :func:`one_line`."""
    return ("\n" + indent).join(one_line(line) for line in text.splitlines() or [""])


def _read_files(record: Any) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``run.json`` and ``data.json`` of a run, and one line per damaged file (which file, what is wrong).

    A ``run.json`` with fields of the wrong type is not used for the sections (the record's
    checked values are shown instead).
    """
    from ..errors import DamagedFileError

    problems: list[str] = []
    meta: dict[str, Any] = {}
    if record.problem:
        problems.append(f"{record.path}: {record.problem}.")
    else:
        try:
            meta = record.metadata
        except DamagedFileError as exc:
            problems.append(f"{exc} Run 'runlab index rebuild' to record the run as damaged.")
        except FileNotFoundError:
            problems.append(
                f"{record.path / 'run.json'} is gone: restore it from a backup to keep the run (without "
                "it, 'runlab index rebuild' drops the run from the index; its folder stays)."
            )
    data: dict[str, Any] = {}
    try:
        data = record.data
    except DamagedFileError as exc:
        problems.append(str(exc))
    path = record.path / "metrics.jsonl"
    skipped = record.metrics_report().skipped
    if skipped:
        line, why = skipped[0]
        problems.append(f"{path} has {len(skipped)} unreadable line{'s' if len(skipped) != 1 else ''} "
                        f"(line {line}: {why}); the readable points are shown.")  # fmt: skip
    elif record.summaries and (not path.exists() or path.stat().st_size == 0):
        problems.append(f"{path} is {'empty' if path.exists() else 'missing'}, although the run logged metrics.")
    return meta, data, problems


def _when(text: Any) -> Any:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _next_update(meta: dict[str, Any], has_metrics: bool) -> str:
    """When a running run's metric summaries next reach the index (with its next heartbeat)."""
    import time

    beat = meta.get("heartbeat") or {}
    every = beat.get("every") if isinstance(beat.get("every"), (int, float)) else 5.0
    last = beat.get("time") if isinstance(beat.get("time"), (int, float)) else None
    due = max(0.0, last + every - time.time()) if last is not None else every
    what = "metric summaries" if has_metrics else "no metrics yet; summaries"
    return (
        f"{what} reach the index every {every:g} s; next update due in ~{due:.0f} s "
        "('runlab watch' or 'runlab metrics ID NAME -F' follow it live)"
    )


def _series(record: Any) -> dict[str, Any]:
    try:
        return dict(record.metrics())
    except (OSError, ValueError):
        return {}


def _plugin_records(meta: dict[str, Any]) -> None:
    plugins = meta.get("plugins") or {}
    hooks = meta.get("hooks") or {}
    if not plugins and not hooks:
        return
    _section("Plugins")
    for name, info in plugins.items():
        if not isinstance(info, dict):
            click.echo(f"  {name}: {format_value(info, 100)}")
            continue
        about = ", ".join(str(info[k]) for k in ("version", "source", "state") if info.get(k) not in (None, ""))
        click.echo(f"  {name}" + (f" ({about})" if about else ""))
        fields = [(k, v) for k, v in _flatten(info) if k not in ("version", "source", "state", "errors")]
        width = max([len(k) for k, _ in fields], default=0)
        for key, value in fields:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else format_value(value, 100)
            click.echo(f"    {key.ljust(width)}  {shown}")
        for error in info.get("errors") or []:
            if isinstance(error, dict):
                where = f" in {error['hook']}" if error.get("hook") else ""
                click.echo(f"    error{where}: {format_value(error.get('error') or error.get('message'), 100)}")
    for name, info in hooks.items():
        click.echo(f"  hook {name}: {format_value(info, 100)}")


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.extend(_flatten(value, f"{prefix}{key}/"))
        else:
            out.append((f"{prefix}{key}", value))
    return out
