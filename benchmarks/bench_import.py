"""How long ``import runlab`` takes, and which heavy modules it drags in.

Measures, each in fresh processes with bytecode caching on (one untimed warm-up first):

* wall time of ``python -c "import runlab"`` as a whole process, next to ``python -c pass``;
* the import alone, timed inside the process (``perf_counter`` around the statement);
* the import plus resolving ``runlab.start_run`` (the lazy ``runlab.lifecycle`` package);
* which of a list of heavy or optional modules ``import runlab`` loaded.

Usage::

    python benchmarks/bench_import.py [--repeat 15] [--json results.json]
"""

from __future__ import annotations

import argparse
import subprocess
from typing import Any

from _common import PYTHON, bench_main, clean_env, ensure_bytecode_caching, fmt_ms, median, time_process

HEAVY = [
    "pandas", "numpy", "click", "rich", "optuna", "dask", "distributed", "submitit", "fastapi", "uvicorn",
    "jinja2", "plotly", "matplotlib", "mlflow", "wandb", "desktop_notifier", "pydantic", "yaml",
]  # fmt: skip
#: What the target forbids: the optional extras and pandas.
FORBIDDEN = [
    "optuna", "dask", "distributed", "submitit", "fastapi", "uvicorn", "plotly", "mlflow", "wandb",
    "desktop_notifier", "matplotlib", "pandas",
]  # fmt: skip

_TIMED_IMPORT = "import time; t = time.perf_counter(); import runlab; print(time.perf_counter() - t)"
_TIMED_START_RUN = (
    "import time; t = time.perf_counter(); import runlab; runlab.start_run; print(time.perf_counter() - t)"
)
_MODULES = "import sys; before = set(sys.modules); import runlab; print(*sorted(set(sys.modules) - before), sep='\\n')"


def _python(code: str) -> str:
    proc = subprocess.run([PYTHON, "-c", code], env=clean_env(), capture_output=True, text=True, check=True)
    return proc.stdout


def in_process_times(code: str, repeat: int) -> list[float]:
    """Seconds printed by ``code`` run in ``repeat`` fresh processes (after one warm-up)."""
    _python(code)
    return [float(_python(code)) for _ in range(repeat)]


def loaded_modules() -> list[str]:
    """Modules that ``import runlab`` added to ``sys.modules``."""
    return _python(_MODULES).split()


def slowest_imports(count: int = 8) -> list[tuple[str, int]]:
    """The ``count`` modules with the largest cumulative time (us) under ``-X importtime``."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import runlab"], env=clean_env(), capture_output=True, text=True, check=True
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        rows.append((name.strip(), int(cumulative)))
    return sorted(rows, key=lambda r: -r[1])[:count]


def run(repeat: int = 15) -> dict[str, Any]:
    """Measure everything; return the figures (seconds) and module lists."""
    bare = median(time_process([PYTHON, "-c", "pass"], repeat))
    whole = median(time_process([PYTHON, "-c", "import runlab"], repeat))
    inproc = median(in_process_times(_TIMED_IMPORT, repeat))
    with_run = median(in_process_times(_TIMED_START_RUN, repeat))
    modules = loaded_modules()
    top = {m.split(".")[0] for m in modules}
    return {
        "python_pass_s": bare,
        "import_process_s": whole,
        "import_in_process_s": inproc,
        "import_and_start_run_attr_s": with_run,
        "modules_loaded": len(modules),
        "heavy_loaded": [m for m in HEAVY if m in top],
        "forbidden_loaded": [m for m in FORBIDDEN if m in top],
        "slowest_imports_us": slowest_imports(),
    }


def report(r: dict[str, Any]) -> None:
    print("import runlab")
    print(f"  python -c pass                    median {fmt_ms(r['python_pass_s'])}")
    print(f"  python -c 'import runlab'         median {fmt_ms(r['import_process_s'])}")
    print(f"  import runlab (in process)        median {fmt_ms(r['import_in_process_s'])}")
    print(f"  + resolve runlab.start_run        median {fmt_ms(r['import_and_start_run_attr_s'])}")
    print(f"  modules added by import runlab    {r['modules_loaded']}")
    print(f"  heavy modules loaded              {', '.join(r['heavy_loaded']) or 'none'}")
    for name in HEAVY:
        print(f"    {name:<18} {'LOADED' if name in r['heavy_loaded'] else 'no'}")
    print("  slowest imports (cumulative, -X importtime):")
    for name, us in r["slowest_imports_us"]:
        print(f"    {us / 1000:7.1f} ms  {name}")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeat", type=int, default=15, help="timed processes per measurement")


def main(argv: list[str] | None = None) -> None:
    bench_main(__doc__, _arguments, lambda args: run(args.repeat), report, argv)


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
