"""``runlab workflow sequential|parallel|run|list|show``: several experiments as one workflow."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ._main import cli, existing_store, root_option
from ._render import FORMATS, STATUS_STYLE, emit, json_text

__all__ = ["workflow_group"]

_EXIT = {"completed": 0, "failed": 1, "cancelled": 130}


def _scripts(paths: tuple[str, ...], configs: tuple[Path, ...]) -> list[Any]:
    """The scripts, each with the configs of ``configs`` typed for it (as ``runlab run SCRIPT -c FILE``)."""
    from ..errors import UsageError
    from ..experiment import Script

    scripts = [Script(p) for p in paths]
    if not configs:
        return scripts
    from ..params import load_config
    from ..workflow._file import typed_configs

    loaded = load_config(*configs)
    out = []
    for path, script in zip(paths, scripts, strict=True):
        try:
            typed = typed_configs(script, loaded)
        except UsageError as exc:
            raise UsageError(f"{path}: {exc}") from None
        out.append(Script(script.file, config=typed, entrypoint=script.entrypoint))
    return out


_STEP_HEADERS = ["step", "state", "after", "runs", "error"]


def _run_states(store: Any, record: Any) -> dict[str, str]:
    """The status of each run of the workflow as the store reads it (``missing`` once deleted)."""
    states = {}
    for run_id in record.run_ids:
        try:
            states[run_id] = store.load(run_id).status
        except Exception:  # deleted or archived since, or its run.json is damaged: the record still names it
            states[run_id] = "missing"
    return states


def _step_rows(record: Any, states: dict[str, str]) -> list[list[Any]]:
    """One row per step: name, state, dependencies, runs (``ID STATUS``) and error."""
    return [[name, step.state, ", ".join(step.after), ", ".join(f"{r} {states.get(r, '?')}" for r in step.runs),
             step.error or ""] for name, step in record.steps.items()]  # fmt: skip


def _step_table(rows: list[list[Any]], fmt: str = "table") -> None:
    emit(fmt, _STEP_HEADERS, rows, {1: [STATUS_STYLE.get(r[1], "") for r in rows]}, keep=(0, 1))


def _when(stamp: float | None) -> str | None:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M") if stamp is not None else None


def _execute(flow: Any) -> None:
    """Run ``flow``, print one line per run and a table of steps; exit by the workflow's state."""
    try:
        results = flow.run()
    except KeyboardInterrupt:
        click.echo("Interrupted: the workflow was cancelled.", err=True)
        results = [r for rs in flow.results.values() for r in rs]
    for result in results:
        click.echo(f"run {result.run_id or '-':<8} {result.status!s:<9} {result.folder or ''}".rstrip())
    record = flow.record
    if record is None:
        return
    for name, step in record.steps.items():  # why a step failed, also when it failed before its run started
        if step.state == "failed" and step.error:
            click.echo(f"step {name} failed: {step.error}", err=True)
    click.echo(f"workflow {record.id} {record.state}", err=True)
    if sys.stdout.isatty():
        _step_table(_step_rows(record, {r.run_id: str(r.status) for r in results if r.run_id}))
    code = _EXIT.get(record.state, 1)
    sys.stdout.flush()
    if code:
        sys.exit(code)


@cli.group("workflow")
def workflow_group() -> None:
    """Run several experiments as one workflow (KohakuEngine flows); list and show workflows.

    \b
    Examples:
      runlab workflow sequential prep.py train.py evaluate.py
      runlab workflow parallel a.py b.py -c sweep.yml -j 4 --mode pool
      runlab workflow run pipeline.yml -j 2
      runlab workflow list
      runlab workflow show 3f2a
    """


def _common(fn: Any) -> Any:
    fn = click.option("-c", "--config", "configs", multiple=True, metavar="FILE",
                      type=click.Path(exists=True, dir_okay=False, path_type=Path),
                      help="Config file for every script (its sweep gives several runs each).")(fn)  # fmt: skip
    return root_option(fn)


@workflow_group.command("sequential")
@click.argument("scripts", nargs=-1, required=True, metavar="SCRIPT...")
@_common
@click.pass_context
def sequential_cmd(ctx: click.Context, scripts: tuple[str, ...], configs: tuple[Path, ...]) -> None:
    """Run scripts one after another, in this process; a failed run skips the rest.

    Exit 0 when every run completed, 1 when one failed, 130 when cancelled.
    """
    from ..workflow import Sequential

    root = (ctx.find_root().obj or {}).get("root")
    _execute(Sequential(_scripts(scripts, configs), root=root))


@workflow_group.command("parallel")
@click.argument("scripts", nargs=-1, required=True, metavar="SCRIPT...")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N", help="Runs at a time (default: CPUs).")
@click.option("--mode", type=click.Choice(["subprocess", "pool"]), default="subprocess", show_default=True,
              help="subprocess: a fresh interpreter per run; pool: forked from a warm process (faster).")  # fmt: skip
@_common
@click.pass_context
def parallel_cmd(ctx: click.Context, scripts: tuple[str, ...], jobs: int | None, mode: str,
                 configs: tuple[Path, ...]) -> None:  # fmt: skip
    """Run scripts (and every config of each) at the same time, each in its own process."""
    from ..workflow import Parallel

    root = (ctx.find_root().obj or {}).get("root")
    _execute(Parallel(_scripts(scripts, configs), max_workers=jobs, mode=mode, root=root))


@workflow_group.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-x", "--executor", metavar="NAME", help="inline, local or dask (default: the file's, else local).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N", help="Runs at a time.")
@root_option
@click.pass_context
def run_cmd(ctx: click.Context, file: Path, executor: str | None, jobs: int | None) -> None:
    """Run a YAML workflow file: steps with scripts, parameters and dependencies.

    Steps run in dependency order, independent ones at the same time; a failed step skips the
    steps after it. A cycle or an unknown step is an error (exit 2) before anything runs.

    \b
    steps:
      prep:  {script: prep.py, params: {n: 50}}
      train: {script: train.py, after: [prep]}
    """
    from ..workflow import load_workflow_file

    root = (ctx.find_root().obj or {}).get("root")
    flow = load_workflow_file(file, root=root, executor=executor, workers=jobs)
    _execute(flow)


@workflow_group.command("list")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def list_cmd(ctx: click.Context, fmt: str) -> None:
    """List the store's workflows, newest first: id, name, kind, state, steps completed of total, times.

    A workflow whose record is damaged is listed as damaged, with the reason; what to do about it
    is printed on stderr.
    """
    from ..workflow import DamagedWorkflowError, list_workflows

    store = existing_store(ctx)  # a --root that does not exist is an error, as for runlab sweep list
    records = list_workflows(store.root)
    if not records and fmt == "table":
        click.echo(f"No workflows in {store.root} yet. Start one with: runlab workflow run FILE", err=True)
        return
    headers = ["id", "name", "kind", "state", "completed", "steps", "created", "ended", "problem"]
    rows: list[list[Any]] = []
    for r in records:
        if isinstance(r, DamagedWorkflowError):  # listed, the way out on stderr
            rows.append([r.id, None, None, "damaged", None, None, None, None, f"record {r.reason}"])
            click.echo(str(r), err=True)
            continue
        done = sum(s.state == "completed" for s in r.steps.values())
        rows.append([r.id, r.name, r.kind, r.state, done, len(r.steps), _when(r.created), _when(r.ended), None])
    if fmt == "table" and all(row[-1] is None for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    emit(fmt, headers, rows, {3: [STATUS_STYLE.get(str(r[3]), "") for r in rows]})


@workflow_group.command("show")
@click.argument("ref", metavar="ID")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def show_cmd(ctx: click.Context, ref: str, fmt: str) -> None:
    """Show a workflow (ID or a unique prefix of it): its state, then each step's state, dependencies,
    runs with their status in the store, and error.

    With -f json: one object with the workflow's fields and its steps; csv and markdown give the steps.
    """
    from ..workflow import load_workflow

    store = existing_store(ctx)
    record = load_workflow(store.root, ref)
    states = _run_states(store, record)
    rows = _step_rows(record, states)
    if fmt == "json":
        steps = [{"step": name, "state": step.state, "after": step.after,
                  "runs": [{"id": r, "status": states[r]} for r in step.runs], "error": step.error}
                 for name, step in record.steps.items()]  # fmt: skip
        click.echo(json_text({"id": record.id, "name": record.name, "kind": record.kind, "state": record.state,
                              "created": record.created, "ended": record.ended, "heartbeat": record.heartbeat,
                              "error": record.error, "steps": steps}))  # fmt: skip
        return
    if fmt == "table":
        done = sum(s.state == "completed" for s in record.steps.values())
        name = f" {record.name}" if record.name else ""
        click.echo(f"workflow {record.id}{name}  {record.state}  ({record.kind}, {done} of {len(rows)} step(s) "
                   "completed)")  # fmt: skip
        click.echo(f"  created: {_when(record.created)}   ended: {_when(record.ended) or '-'}")
        if record.error:
            click.echo(f"  error: {record.error}")
        beat = record.heartbeat or {}
        if record.state in ("running", "crashed") and beat:
            last = _when(beat.get("time")) if isinstance(beat.get("time"), (int, float)) else "?"
            click.echo(f"  driver: pid {beat.get('pid')} on {beat.get('host')}, last heartbeat {last}")
    _step_table(rows, fmt)
