"""The sweep options of ``runlab run``, and whether the options given make a sweep.

Apart from :mod:`._sweep_cmd` (which starts the sweep and shows sweeps), so a single run does
not load the sweep commands and their rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

__all__ = ["sweep_options", "wants_sweep"]


def sweep_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the sweep and executor options to a command (``runlab run``)."""
    opts = [
        click.option("--sweep", "sweeps", multiple=True, metavar="NAME=V1,V2,...",
                     help="Sweep a parameter over values (repeatable; grid by default). Sweep text also works in "
                          "-p: -p 'lr=logspace(-4,-1,4)'."),
        click.option("--sweep-mode", type=click.Choice(["grid", "zip", "random"]), default="grid", show_default=True,
                     help="Combine swept parameters: every combination, the i-th values together, or random draws."),
        click.option("--samples", type=click.IntRange(min=1), metavar="N",
                     help="Random sampling: N runs drawn from the swept values and ranges (uniform(a,b), "
                          "loguniform(a,b), randint(a,b))."),
        click.option("--seed", type=int, metavar="S", help="Seed of random sampling (the same seed, the same runs)."),
        click.option("-x", "--executor", metavar="NAME",
                     help="Where runs execute: inline, local (default), dask, slurm."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N", help="Runs at a time (default 1)."),
        click.option("--dask-scheduler", metavar="ADDRESS", help="Dask scheduler tcp://host:port (implies -x dask)."),
        click.option("--partition", metavar="NAME", help="SLURM partition (-x slurm)."),
        click.option("--time", "time_min", type=click.FloatRange(min=1), metavar="MIN",
                     help="SLURM job time limit in minutes (-x slurm)."),
        click.option("--cpus", type=click.IntRange(min=1), metavar="N", help="CPUs per SLURM job (-x slurm)."),
        click.option("--gpus", type=click.IntRange(min=0), metavar="N", help="GPUs per SLURM job (-x slurm)."),
        click.option("--mem", type=click.FloatRange(min=0), metavar="GB", help="Memory per SLURM job (-x slurm)."),
        click.option("--account", metavar="NAME", help="SLURM account (-x slurm)."),
        click.option("--retry-failed", is_flag=True, help="Resuming: run the configs that failed last time again."),
        click.option("--max-retries", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
                     help="Run a failed or crashed config again up to N times."),
        click.option("--fail-fast", is_flag=True, help="Cancel the sweep at the first failed run (default: go on)."),
        click.option("--dry-run", is_flag=True, help="List the runs the sweep would make; run nothing."),
    ]  # fmt: skip
    for option in reversed(opts):
        fn = option(fn)
    return fn


def wants_sweep(path: str, argv: Sequence[str], configs: Sequence[Path], options: dict[str, Any]) -> bool:
    """Whether ``runlab run`` makes a sweep: sweep options, swept overrides, or configs that expand to several."""
    defaults = {"sweep_mode": "grid", "max_retries": 0}
    # identity for None/False: a given 0 (--seed 0, --gpus 0) equals False but is an option the user set
    if any(v is not None and v is not False and v not in ((), []) and (k not in defaults or v != defaults[k])
           for k, v in options.items()):  # fmt: skip
        return True
    if argv:
        from ..params import sweep_argv

        if len(sweep_argv(list(argv))) > 1:
            return True
    file = Path(path.split(":")[0])
    if file.suffix == ".py" and not configs:  # one run; the config modules need not load
        return False
    from ..params import CONFIG_SUFFIXES, load_config, load_spec

    if file.suffix in CONFIG_SUFFIXES and file.is_file():
        return len(load_spec(file, *configs).to_configs()) > 1
    if len(configs) == 1 and Path(configs[0]).suffix == ".py":
        from ..params._config import yields_configs

        if yields_configs(configs[0]):  # consulted lazily, one config per run (KohakuEngine's resume pattern)
            return False
    return bool(configs) and len(load_config(*configs)) > 1
