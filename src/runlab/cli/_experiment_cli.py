"""``ExperimentCLI``: a command line for a folder of experiment modules (PyComex's ``pycomex.cli.ExperimentCLI``).

A project with many experiment files gives its users one command::

    # experiments/cli.py
    from runlab.cli import ExperimentCLI

    cli = ExperimentCLI(name="my_experiments", experiments_path="experiments",
                        experiments_base_path="results", version="1.0.0")
    if __name__ == "__main__":
        cli()

``python cli.py list-experiments``, ``python cli.py experiment-info train`` and
``python cli.py run-experiment train --LEARNING_RATE=0.01`` then work. Runs start exactly as
with ``runlab run`` (the same launch path and exit codes) into ``experiments_base_path``.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import click

from ..errors import ExperimentNotFoundError

__all__ = ["ExperimentCLI"]

_MAKERS = {"Experiment", "extend", "from_config", "import_from"}


def _is_experiment(tree: ast.Module) -> bool:
    """Whether the module is an experiment: a functional one (:func:`_is_functional`) or a script with a
    ``with runlab.run()`` block (a module without either, such as a helper module, is none)."""
    from ..experiment._block_params import run_calls

    return _is_functional(tree) or bool(run_calls(tree))


def _is_functional(tree: ast.Module) -> bool:
    """Whether the module makes an experiment: calls ``Experiment(...)`` or ``Experiment.extend(...)`` & co."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "Experiment":
                return True
            if isinstance(func, ast.Attribute) and func.attr in _MAKERS:
                base = func.value
                if func.attr == "Experiment" or (isinstance(base, ast.Name) and base.id == "Experiment"):
                    return True
                if isinstance(base, ast.Attribute) and base.attr == "Experiment":
                    return True
    return False


class ExperimentCLI(click.Group):
    """A click group over the experiment modules of one folder.

    Commands: ``list-experiments`` (name and first docstring line of each), ``experiment-info
    NAME`` (docstring and parameters with type, default and description) and ``run-experiment
    NAME [--PARAM=VALUE ...]``.

    Args:
        name: the program's name (in help and ``--version``).
        experiments_path: the folder of experiment modules (``NAME.py``; ``_private.py`` skipped): those
            that make a functional experiment (parameters: their UPPERCASE globals) and scripts with a
            ``with runlab.run()`` block (parameters: all that ``runlab run`` accepts for them).
        experiments_base_path: the store the runs go to (default: as ``runlab run``).
        version: shown by ``--version``.
    """

    def __init__(
        self,
        name: str,
        experiments_path: str | os.PathLike[str],
        experiments_base_path: str | os.PathLike[str] | None = None,
        version: str = "0.0.0",
        **attrs: Any,
    ) -> None:
        super().__init__(name=name, help=attrs.pop("help", f"Experiments of {name}."), **attrs)
        self.experiments_path = Path(experiments_path)
        self.experiments_base_path = Path(experiments_base_path) if experiments_base_path is not None else None
        self.version = version
        click.version_option(version, "-V", "--version", prog_name=name)(self)
        self.add_command(click.Command("list-experiments", callback=self._list,
                                       help="List the experiments of the folder."))  # fmt: skip
        self.add_command(click.Command(
            "experiment-info", callback=self._info, params=[click.Argument(["experiment"])],
            help="Show an experiment's description and parameters."))  # fmt: skip
        self.add_command(click.Command(
            "run-experiment", callback=self._run, context_settings={"ignore_unknown_options": True},
            params=[click.Argument(["experiment"]), click.Argument(["overrides"], nargs=-1, type=click.UNPROCESSED)],
            help="Run an experiment; parameter overrides follow its name: --NAME=VALUE."))  # fmt: skip

    # -- the experiments ------------------------------------------------------------------
    def experiments(self) -> dict[str, tuple[Path, str]]:
        """``name -> (file, first docstring line)`` of every experiment module in the folder, sorted."""
        if not self.experiments_path.is_dir():
            raise ExperimentNotFoundError(
                f"The experiments folder {self.experiments_path} does not exist. Give ExperimentCLI an existing "
                "experiments_path."
            )
        found: dict[str, tuple[Path, str]] = {}
        for path in sorted(self.experiments_path.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                tree = ast.parse(path.read_bytes(), str(path))
            except (SyntaxError, ValueError):
                continue
            if _is_experiment(tree):
                doc = (ast.get_docstring(tree) or "").strip().split("\n")[0]
                found[path.stem] = (path, doc)
        return found

    def _find(self, name: str) -> Path:
        found = self.experiments()
        key = name[:-3] if name.endswith(".py") else name
        if key not in found:
            import difflib

            close = difflib.get_close_matches(key, list(found), n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ExperimentNotFoundError(
                f"No experiment {name!r} in {self.experiments_path}.{hint} Experiments: "
                f"{', '.join(found) or 'none'}. See 'list-experiments'."
            )
        return found[key][0]

    # -- the commands ---------------------------------------------------------------------
    def _list(self) -> None:
        found = self.experiments()
        if not found:
            click.echo(f"No experiments in {self.experiments_path}.")
            return
        width = max(len(n) for n in found)
        for name, (_, doc) in found.items():
            click.echo(f"{name.ljust(width)}  {doc}".rstrip())

    def _info(self, experiment: str) -> None:
        from ..experiment._script_params import script_params
        from ._render import format_value

        path = self._find(experiment)
        tree = ast.parse(path.read_bytes(), str(path))
        click.echo(f"{path.stem}  ({path})")
        doc = ast.get_docstring(tree)
        if doc:
            click.echo(f"\n{doc.strip()}")
        params = script_params(path)  # a script's are all of them (globals of any case, the block's params= keys)
        if _is_functional(tree):  # a functional experiment's are its UPPERCASE globals
            params = {n: p for n, p in params.items() if n.isupper()}
        click.echo("\nParameters:" if params else "\nParameters: none")
        for name, param in params.items():
            line = f"  {name} ({param.type_name}) = {format_value(param.default)}"
            click.echo(line + (f"  # {param.description}" if param.description else ""))

    def _run(self, experiment: str, overrides: tuple[str, ...]) -> None:
        from ..experiment._dispatch import launch
        from ._run_cmd import _execute

        path = self._find(experiment)
        root = str(self.experiments_base_path) if self.experiments_base_path is not None else None
        _execute(lambda: launch(str(path), list(overrides), [], root=root))

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; bad input (a :class:`~runlab.UsageError`) is one line and exit code 2."""
        from ..errors import UsageError

        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc), ctx) from None
