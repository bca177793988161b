"""``runlab run`` and ``runlab rerun``: start an experiment file, or a recorded run again."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ._complete import complete_path, complete_run_id
from ._main import _debug, _freeze_loaded, cli, get_store, given_text, root_option
from ._sweep_options import sweep_options, wants_sweep

_EXIT = {"completed": 0, "failed": 1, "cancelled": 130}
_SETTINGS = {"ignore_unknown_options": True}


def _run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--description", "-d", metavar="TEXT", help="Description of the run(s).")(fn)
    fn = click.option("--tag", "-t", "tags", multiple=True, metavar="TAG", help="Tag the run(s); repeatable.")(fn)
    fn = click.option("--name", metavar="NAME", help="Name of the run(s).")(fn)
    return fn


def _report(runs: list[Any], error: BaseException | None) -> int:
    """Print one line per run (id, state, folder); the exit code of the worst state."""
    code = 0
    for run in runs:
        status = run.status
        click.echo(f"run {run.id} {status:<9} {run.path}")
        code = max(code, _EXIT.get(status, 1))
    if error is not None and not runs:
        code = 130 if isinstance(error, KeyboardInterrupt) else 1
    return code


def _print_user_traceback(error: BaseException, *, debug: bool | None, file: Any) -> None:
    from ..experiment._traceback import print_user_traceback  # only on failure: traceback is slow to import

    print_user_traceback(error, debug=debug, file=file)


def _execute(start: Callable[[], list[Any]], debug: bool = False) -> None:
    """Run ``start``, report its runs and exit 0 / 1 / 130 by their final states.

    An error in the user's code prints its traceback without runlab's own frames (all of
    them with ``debug``).
    """
    from ..errors import RunlabError
    from ..lifecycle import add_listener

    created: list[Any] = []  # every run this command creates, also when an error ends it early

    def collect(event: str, run: Any, **data: Any) -> None:
        if event == "run_state_changed" and data.get("old") is None:
            created.append(run)

    remove = add_listener(collect)
    runs: list[Any] = []
    error: BaseException | None = None
    _freeze_loaded()  # what the command loaded since main() lives as long as the process too
    try:
        runs = start()
    except RunlabError as exc:
        if not created or created[-1].status not in ("failed", "cancelled"):
            # bad input (exit 2) or a store problem (exit 1), not a run's end: one line, after the runs made before it
            _report(created, None)
            raise
        error = exc  # raised in a run's code (runlab.inputs() outside a workflow ...): that run failed, exit 1
        _print_user_traceback(exc, debug=debug or None, file=sys.stderr)
    except KeyboardInterrupt as exc:
        error = exc
        click.echo("Interrupted.", err=True)
    except BaseException as exc:
        if isinstance(exc, SystemExit) and exc.code in (0, None):
            pass
        else:
            error = exc
            _print_user_traceback(exc, debug=debug or None, file=sys.stderr)
    finally:
        remove()
    runs = list(dict.fromkeys([*runs, *created]))
    code = _report(runs, error)
    sys.stdout.flush()
    if code:
        sys.exit(code)


@cli.command("run", context_settings=_SETTINGS)
@click.argument("path", metavar="PATH", shell_complete=complete_path)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "-c", "--config", "configs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE", help="Config file (.py, .yml, .toml, .json); repeatable, merged in order; a sweep runs each.",
)  # fmt: skip
@_run_options
@click.option("--namespace", "-n", metavar="NS", callback=given_text,
              help="Namespace of the run(s) (default: the file's name).")  # fmt: skip
@click.option("--entrypoint", "-e", metavar="NAME", help="Function of a plain script to call (default: discovered).")
@click.option("--resume", metavar="ID|auto",
              help="Continue a crashed or cancelled run (same ID and folder; steps go on) instead of starting one; "
                   "'auto': the newest run called --name if it did not finish, else a new run.")  # fmt: skip
@click.option(
    "--reproducible",
    is_flag=True,
    help="Also save what 'runlab reproduce ID' needs (dependencies, sources, local modules).",
)
@sweep_options
@root_option
@click.pass_context
def run_command(
    ctx: click.Context,
    /,
    path: str,
    overrides: tuple[str, ...],
    configs: tuple[Path, ...],
    name: str | None,
    tags: tuple[str, ...],
    description: str | None,
    namespace: str | None,
    entrypoint: str | None,
    resume: str | None,
    reproducible: bool,
    **sweep: Any,
) -> None:
    """Run an experiment file: a functional experiment, a plain script or a config file.

    Parameter overrides follow the path: --NAME=VALUE, --NAME VALUE, -p NAME=VALUE or
    --set a.b=VALUE (dotted names reach into dicts). A script global that is also one of
    the options below (e.g. `name`) is set with -p name=VALUE. With FILE.py:FUNCTION the
    function's arguments are parameters too. --allow-new accepts names the file does not
    define (a plain script gets them as new globals). Prints each run's id, state and
    folder; exits 0 when every run completed, 1 when one failed, 130 when cancelled, 2
    for bad input (nothing is run). A failing run shows the traceback of your code
    (`runlab --debug run ...` shows runlab's frames too).

    \b
    Examples:
      runlab run train.py --LEARNING_RATE=0.01 --EPOCHS 5 --tag baseline
      runlab run hello.py -c configs/hello_config.py
      runlab run train.py -c configs/sweep.yml          # one run per config
      runlab run configs/experiment_config.yml          # its `extend` names the file
      runlab run tools.py:evaluate -p checkpoint=best.pt
      runlab run train.py --sweep lr=0.1,0.01 --sweep bs=16,32 -j 4     # a sweep: 4 runs at a time
      runlab run train.py -p "lr=loguniform(1e-4,1e-1)" --samples 20 --seed 1
      runlab run train.py -c sweep.yml -x dask --dask-scheduler tcp://head:8786
      runlab run train.py --name job-7 --resume auto    # in a job a cluster may requeue

    Several configs (--sweep, sweep text such as -p "lr=logspace(-4,-1,4)", a config
    file's sweep) make a sweep: each run in its own process (-x local, -j N at a time),
    recorded and linked (`runlab sweep show ID`); the same command again resumes it.
    See docs/sweeps.md and docs/executors.md.
    """
    from ..experiment._dispatch import launch

    root = (ctx.find_root().obj or {}).get("root")  # None: the config's root, else the default store
    _check_entrypoint(path, entrypoint)
    _refuse_search(path, configs)
    if wants_sweep(path, overrides, configs, sweep):
        if resume is not None:
            raise UsageError("--resume continues one run; a sweep resumes itself when the same command runs again.")
        if reproducible:
            raise UsageError("--reproducible records one run; for a sweep set __REPRODUCIBLE__=True in its parameters.")
        from ._sweep_cmd import start_sweep  # the sweep code loads only for a sweep

        code = start_sweep(path, overrides, configs, root=root, name=name, tags=tags, description=description,
                           namespace=namespace, entrypoint=entrypoint, **sweep)  # fmt: skip
        sys.stdout.flush()
        if code:
            sys.exit(code)
        return
    _execute(
        lambda: launch(
            path,
            list(overrides),
            list(configs),
            name=name,
            tags=list(tags),
            description=description,
            namespace=namespace,
            root=root,
            entrypoint=entrypoint,
            resume=resume,
            reproducible=reproducible,
        ),
        debug=_debug(ctx),
    )


def _check_entrypoint(path: str, entrypoint: str | None) -> None:
    """``FILE.py:FUNCTION`` and ``-e NAME`` name the entry point twice: refuse two different ones."""
    from .._pyfile import split_target

    function = split_target(path)[1]
    if entrypoint and function and entrypoint != function:
        raise UsageError(f"{path} names the entry point {function!r} and -e names {entrypoint!r}: give it once, "
                         f"either as FILE.py:FUNCTION or with -e FUNCTION.")  # fmt: skip


def _refuse_search(path: str, configs: tuple[Path, ...]) -> None:
    """A config with a ``search:`` section is a study: point to ``runlab optimize`` instead of making one run."""
    file = Path(path.split(":")[0])
    if file.suffix == ".py" and not configs:  # nothing that could hold a search space
        return
    from ..errors import UsageError
    from ..params import CONFIG_SUFFIXES, load_spec

    files = ([file] if file.suffix in CONFIG_SUFFIXES and file.is_file() else []) + [
        c for c in configs if c.suffix in CONFIG_SUFFIXES
    ]
    for config in files:
        if load_spec(config).search is not None:
            extra = "" if config == file else f" -c {config}"
            raise UsageError(f"{config} has a search: section (a search space for a study): run 'runlab optimize "
                             f"{path}{extra} --n-trials N' instead; runlab run would ignore it.")  # fmt: skip


@cli.command("rerun", context_settings=_SETTINGS)
@click.argument("run_ref", metavar="ID", shell_complete=complete_run_id)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@_run_options
@root_option
@click.pass_context
def rerun_command(
    ctx: click.Context,
    run_ref: str,
    overrides: tuple[str, ...],
    name: str | None,
    tags: tuple[str, ...],
    description: str | None,
) -> None:
    """Run a recorded run's experiment again with the same parameters plus overrides.

    The new run is linked to the original (`rerun_of` in its record, shown by `runlab show`).
    Exit codes as for `runlab run`.

    \b
    Examples:
      runlab rerun 3f2a                      # same parameters
      runlab rerun best-lr --EPOCHS=50       # by name, one parameter changed
    """
    from ..experiment._dispatch import rerun

    store = get_store(ctx)
    _execute(
        lambda: rerun(run_ref, list(overrides), root=store, name=name, tags=list(tags), description=description),
        debug=_debug(ctx),
    )
