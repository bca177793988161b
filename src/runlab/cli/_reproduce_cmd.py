"""``runlab reproduce``: rebuild a run's environment with uv and run its archived code again."""

from __future__ import annotations

import click

from ._complete import complete_run_id
from ._main import cli, get_store, root_option


@cli.command("reproduce")
@click.argument("run_ref", metavar="ID", shell_complete=complete_run_id)
@click.option("--env-only", is_flag=True, help="Only build the environment and print how to activate it.")
@click.option("--python", "python", metavar="VERSION", help="Python version for the environment "
              "(default: the run's own, then its major.minor).")  # fmt: skip
@root_option
@click.pass_context
def reproduce(ctx: click.Context, run_ref: str, env_only: bool, python: str | None) -> None:
    """Rebuild a reproducible run's environment and run it again from its archived code.

    The run must have been recorded in reproducible mode (--__REPRODUCIBLE__=True,
    'runlab run --reproducible' or start_run(reproducible=True)). A virtual environment is
    made with uv in <root>/.runlab/envs/ID with the recorded dependencies and the saved
    sources of editable packages, or reused once a reproduce has finished building it (one
    builds at a time; another waits for it); the experiment then runs from the run's code/
    folder with the recorded parameters, as a new run linked to the original (rerun_of), and
    both runs are shown side by side. Exit code: 0 when the new run completed, 1 when it failed.

    \b
    Examples:
      runlab reproduce 3f2a9c1e
      runlab reproduce 3f2a9c1e --env-only
      runlab reproduce baseline --python 3.11
    """
    from ..reproduce import archived_request, run_in_environment, shared_environment
    from ._inspect import compare

    store = get_store(ctx)
    record = store.load(run_ref)
    request = None if env_only else archived_request(record, store.root)  # refuse before the slow part

    def say(line: str) -> None:
        click.echo(f"reproduce: {line}", err=True)

    env = shared_environment(store.root, record.path, record.id, python, say)
    if request is None:
        click.echo(f"Environment for run {record.id} ready in {env.path} ({len(env.packages)} packages).")
        click.echo(f"Activate it with: {env.activate}")
        return
    say(f"running {request.target.describe()} from {record.path / 'code'}")
    result = run_in_environment(request, env, record.path / "code")
    store.close()  # the new run was indexed by another process
    new_id = result.get("run_id")
    if not new_id:
        raise click.ClickException(f"The reproduced run did not start: {result.get('error')}")
    click.echo(f"Reproduced run {record.id} as {new_id} ({result.get('status')}).")
    ctx.invoke(compare, run_refs=(record.id, new_id), where=None, limit=50, diff=False, all_aggregates=False,
               fmt="table")  # fmt: skip
    if result.get("status") != "completed":
        ctx.exit(1)
