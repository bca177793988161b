"""``runlab config validate | show | check``: inspect config files.

YAML, TOML and JSON files are only read. A Python config file (``CONFIG`` or
``config_gen()``) is code: to know its configs, these commands import it and call
``config_gen()``, exactly as ``runlab run -c`` does, and say so in their output. No
experiment runs and nothing is written to the store.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import click

from ._main import cli
from ._render import format_value, print_table

_PATH = click.Path(exists=True, path_type=Path)


def _load(paths: tuple[Path, ...]) -> list[Any]:
    from ..params import load_config

    return load_config(paths[0], *paths[1:])


@cli.group("config")
def config_group() -> None:
    """Check and show config files (YAML, TOML, JSON, Python) and their sweeps.

    YAML, TOML and JSON files are only read. A Python config file is run (imported, and its
    config_gen() called) to get its configs, so only use these on Python files you trust.
    No experiment runs and nothing is written to the store.

    \b
    Examples:
      runlab config validate configs/sweep.yml
      runlab config show configs/base.yml configs/fast.yml --format json
      runlab config check train.py -c configs/sweep.yml
    """


@config_group.command("validate")
@click.argument("paths", nargs=-1, required=True, type=_PATH)
def validate(paths: tuple[Path, ...]) -> None:
    """Check that config files load and expand (several files merge left to right).

    YAML, TOML and JSON files are only read; a Python config file is run to get its configs
    (the output says "ran its code"). Exits with 2 and a one-line message when a file is invalid.
    """
    configs = _load(paths)
    names = ", ".join(str(p) for p in paths)
    ran = " (Python config: ran its code)" if _python(paths) else ""
    click.echo(f"OK: {names}{ran}: {len(configs)} config{'s' if len(configs) != 1 else ''}.")


def _python(paths: tuple[Path, ...]) -> bool:
    return any(p.suffix.lower() == ".py" for p in paths)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def _json_ready(value: Any) -> Any:
    """``value`` with what JSON cannot hold written as config ids write it: NaN and infinities as
    ``"NaN"``/``"Infinity"``/``"-Infinity"`` (as ``null`` they would read as None), dates as ISO
    text, and other values (bytes from a YAML ``!!binary``, sets, paths, models) in their canonical form."""
    from ..params._ids import canonical

    if isinstance(value, float) and not math.isfinite(value):
        return canonical(value)
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (datetime.date, datetime.time)):  # a YAML or TOML date, as JSON writes dates
        return value.isoformat()
    return canonical(value)


@config_group.command("show")
@click.argument("paths", nargs=-1, required=True, type=_PATH)
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(paths: tuple[Path, ...], fmt: str) -> None:
    """Show the expanded configs: one row per config with its id and values.

    A Python config file is run to get its configs (YAML, TOML and JSON are only read).

    \b
    Examples:
      runlab config show sweep.yml
      runlab config show sweep_config.py --format json | jq '.[].id'
    """
    configs = _load(paths)
    if fmt == "json":
        from ..store._files import dumps

        records = [{"id": c.id, **_json_ready(c.to_dict())} for c in configs]
        click.echo(dumps(records).decode())
        return
    columns: dict[str, None] = {}
    flat_rows = []
    for c in configs:
        flat: dict[str, Any] = {}
        _flatten("", c.globals_dict, flat)
        if c.kwargs:
            _flatten("kwargs", c.kwargs, flat)
        if c.args:
            flat["args"] = c.args
        flat_rows.append(flat)
        columns.update(dict.fromkeys(flat))
    headers = ["#", "id", *columns]
    rows = [
        [str(i + 1), c.id, *(format_value(flat.get(k, "-"), 24) for k in columns)]
        for i, (c, flat) in enumerate(zip(configs, flat_rows, strict=False))
    ]
    print_table(None, headers, rows)
    ran = " (Python config: ran its code)" if _python(paths) else ""
    count = f"{len(configs)} config{'s' if len(configs) != 1 else ''}"
    click.echo(f"{count} from {', '.join(map(str, paths))}{ran}", err=True)


@config_group.command("check")
@click.argument("script", type=_PATH)
@click.option("-c", "--config", "configs", multiple=True, required=True, type=_PATH,
              help="Config file (repeatable: files merge left to right).")  # fmt: skip
def check(script: Path, configs: tuple[Path, ...]) -> None:
    """List config names that SCRIPT does not define, with suggestions (exit 1 if any; for CI).

    The same checks from Python: runlab.check_config(script, *configs) (errors, warnings, hints).

    The script is read, not run. Its parameters are those `runlab run` accepts: a
    functional experiment's top-level UPPERCASE assignments, a plain script's top-level
    globals (any case). A Python config file given with -c is run to get its configs, as
    in 'runlab run -c'. Values are also checked against simple annotations and literal
    defaults (exit 2 when wrong).

    \b
    Example:
      runlab config check train.py -c sweep.yml
    """
    from ..errors import ParameterError
    from ..experiment._config_check import check_config

    found = check_config(script, *configs)
    values = [i for i in found.errors if i.name not in found.unknown]
    if values:
        raise ParameterError(values[0].message, values[0].name)
    if found.unknown:
        hints = {i.name: " " + i.message for i in found.hints}
        for name in found.unknown:
            click.echo(f"{name!r} is not a parameter of {script}.{hints.get(name, '')}", err=True)
        raise click.exceptions.Exit(1)
    for warning in found.warnings:
        click.echo(f"warning: {warning.message}", err=True)
    click.echo(f"OK: every name in {', '.join(map(str, configs))} is a parameter of {script}.")
