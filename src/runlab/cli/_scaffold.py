"""``runlab template``, ``runlab init`` and ``runlab completion``: start a project."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..errors import UsageError
from ._main import cli, root_option

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

EXPERIMENT = '''"""{name}: an experiment recorded by runlab.

Run it:   python {file} --LEARNING_RATE=0.05        (or: runlab run {file} --EPOCHS 10)
Check it: python {file} --__TESTING__=True           (a quick run with the testing settings)
See it:   runlab list -n {name}   /   runlab show ID
"""

from runlab import Experiment

# Step size of the update.
LEARNING_RATE: float = 0.01
EPOCHS: int = 5  # passes over the data

experiment = Experiment(glob=globals())


@experiment.testing
def testing(e: Experiment) -> None:
    e.EPOCHS = 1  # just check that the code runs


@experiment
def main(e: Experiment) -> None:
    loss = 1.0
    for _ in range(e.EPOCHS):
        loss *= 1 - e.LEARNING_RATE * 10
        e.track("loss", loss)  # a metric point per epoch
    e["final/loss"] = loss  # data.json
    e.commit_raw("summary.txt", f"final loss {{loss:.4f}}\\n")  # an artifact
    e.log(f"final loss {{loss:.4f}}")


@experiment.analysis
def analysis(e: Experiment) -> None:
    # written into each run's analysis.py: python <run folder>/analysis.py
    print(f"final loss {{e['final/loss']:.4f}}")


experiment.run_if_main()
'''

CONFIG = """# {name}: parameters for an experiment, with a sweep.
# Check it:  runlab config validate {file}
# See it:    runlab config show {file}
namespace: {name}
description: "{name} sweep"
parameters:
  LEARNING_RATE: 0.01
  EPOCHS: 5
sweep:
  LEARNING_RATE: [0.1, 0.01, 0.001]
"""

ANALYSIS = '''"""{name}: look at recorded runs.

Run it:  python {file} [WHERE]      e.g. python {file} "status == 'completed'"
"""

import sys

import runlab


def main(where: str | None = None) -> None:
    runs = runlab.runs(where=where, order_by="-created", limit=100)
    print(f"{{len(runs)}} runs")
    for run in runs:
        metrics = ", ".join(f"{{k}}={{s.last:.4g}}" for k, s in run.summaries.items() if s.last is not None)
        print(f"{{run.id}}  {{run.name or '-':<20}} {{run.status:<10}} {{metrics}}")
    try:
        frame = runs.to_pandas()  # needs pandas
    except ImportError:
        return
    if not frame.empty:
        print(frame.describe(include="number").T)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
'''

MIXIN = '''"""{name}: hooks and parameters to share between experiments.

Use it in an experiment file:   experiment.include("{file}")
Run it:  python {file}     (a small demonstration experiment that includes it)
"""

import time

from runlab import Experiment, ExperimentMixin

{upper}_REPORT: bool = True  # log how long the run's main function took

mixin = ExperimentMixin(glob=globals())


@mixin.hook("before_run")
def start_clock(e: Experiment) -> None:
    e["_{name}/start"] = time.perf_counter()  # keys starting with _ stay in memory


@mixin.hook("after_run")
def stop_clock(e: Experiment) -> None:
    seconds = time.perf_counter() - e["_{name}/start"]
    e["{name}/seconds"] = seconds
    if e.{upper}_REPORT:
        e.log(f"{name}: main took {{seconds:.3f}} s")


if __name__ == "__main__":
    demo = Experiment(namespace="{name}_demo", glob={{"__file__": __file__, "__name__": "{name}_demo"}})
    demo.include(__file__)

    @demo
    def main(e: Experiment) -> None:
        e.log(f"sum: {{sum(range(100_000))}}")

    demo.run()
'''

TEMPLATES = {
    "experiment": (".py", EXPERIMENT),
    "config": (".yml", CONFIG),
    "analysis": (".py", ANALYSIS),
    "mixin": (".py", MIXIN),
}


@cli.command("template")
@click.argument("kind", type=click.Choice(list(TEMPLATES)))
@click.argument("name")
@click.option("-o", "--output-dir", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the file into.")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--dry-run", is_flag=True, help="Print the file instead of writing it.")
@root_option
def template(kind: str, name: str, out_dir: Path, force: bool, dry_run: bool) -> None:
    """Write a starter file that runs as it is: an experiment, a config, an analysis or a mixin.

    NAME becomes the file name (NAME.py or NAME.yml) and the namespace of its runs.

    \b
    Examples:
      runlab template experiment train && python train.py
      runlab template config sweep && runlab config validate sweep.yml
      runlab template analysis report
    """
    if not _NAME.match(name):
        raise UsageError(f"Invalid name {name!r}: use letters, digits and '_', not starting with a digit (e.g. train).")
    suffix, text = TEMPLATES[kind]
    path = out_dir / f"{name}{suffix}"
    cls = "".join(part.capitalize() for part in name.split("_")) + ("" if name.endswith("mixin") else "Mixin")
    content = text.format(name=name, file=path.name, cls=cls, upper=name.upper())
    if dry_run:
        click.echo(content, nl=False)
        return
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it or choose another NAME.")
    if not out_dir.is_dir():
        raise UsageError(f"Folder {out_dir} does not exist; create it first.")
    path.write_text(content, encoding="utf-8")
    click.echo(f"Wrote {path}")


@cli.command("init")
@click.option("--store", "store_root", metavar="PATH", default=None,
              help="The store folder, relative to pyproject.toml (default: --root if given, else runs).")  # fmt: skip
@click.option("-p", "--pyproject", type=click.Path(dir_okay=False, path_type=Path), default=Path("pyproject.toml"),
              show_default=True)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Print what would be appended.")
@root_option
@click.pass_context
def init(ctx: click.Context, store_root: str | None, pyproject: Path, dry_run: bool) -> None:
    """Add a [tool.runlab] section to pyproject.toml (created if missing; other content is kept).

    \b
    Examples:
      runlab init
      runlab init --store data/runs
    """
    store_root = store_root or (ctx.find_root().obj or {}).get("root") or "runs"
    text = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
    if text:
        from ..store._root import read_toml

        data = read_toml(pyproject, text, "Fix it before running 'runlab init'.")
        if "runlab" in data.get("tool", {}):
            current = data["tool"]["runlab"].get("root")
            click.echo(f"{pyproject} already has a [tool.runlab] section (root = {current!r}); left unchanged.")
            return
    escaped = store_root.replace("\\", "\\\\").replace('"', '\\"')
    section = f'[tool.runlab]\nroot = "{escaped}"\n'
    addition = ("\n" if text and not text.endswith("\n\n") else "") + section
    if text and not text.endswith("\n"):
        addition = "\n" + addition
    if dry_run:
        click.echo(addition, nl=False)
        return
    with open(pyproject, "a", encoding="utf-8") as handle:
        handle.write(addition)
    click.echo(f"Added [tool.runlab] to {pyproject}: runs will be stored in {store_root!r}.")


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@root_option
def completion(shell: str) -> None:
    """Print the shell completion script (commands, options and run IDs).

    \b
    Examples:
      eval "$(runlab completion bash)"      # in ~/.bashrc
      runlab completion fish > ~/.config/fish/completions/runlab.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None
    ctx = click.get_current_context()
    comp = cls(ctx.find_root().command, {}, "runlab", "_RUNLAB_COMPLETE")
    click.echo(comp.source())
