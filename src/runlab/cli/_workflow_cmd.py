"""``runlab workflow sequential|parallel|run``: several experiments as one workflow."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ._main import cli, root_option
from ._render import STATUS_STYLE, emit

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
    rows = [[name, step.state, len(step.runs), ", ".join(step.after), step.error or ""]
            for name, step in record.steps.items()]  # fmt: skip
    for name, step in record.steps.items():  # why a step failed, also when it failed before its run started
        if step.state == "failed" and step.error:
            click.echo(f"step {name} failed: {step.error}", err=True)
    click.echo(f"workflow {record.id} {record.state}", err=True)
    if sys.stdout.isatty():
        emit("table", ["step", "state", "runs", "after", "error"], rows,
             {1: [STATUS_STYLE.get(r[1], "") for r in rows]})  # fmt: skip
    code = _EXIT.get(record.state, 1)
    sys.stdout.flush()
    if code:
        sys.exit(code)


@cli.group("workflow")
def workflow_group() -> None:
    """Run several experiments as one workflow (KohakuEngine flows).

    \b
    Examples:
      runlab workflow sequential prep.py train.py evaluate.py
      runlab workflow parallel a.py b.py -c sweep.yml -j 4 --mode pool
      runlab workflow run pipeline.yml -j 2
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
