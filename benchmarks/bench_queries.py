"""Query speed on stores of 10,000 and 100,000 finished runs.

Stores are built with ``build_store.py`` under ``benchmarks/.stores/runs-<N>`` (git-ignored)
and reused while their index holds N runs. For each size:

* in process, median of ``--repeat`` after one warm-up:
  ``runlab.runs(where="params.a == 3", root=...)`` (the per-process store is reused, as
  in a notebook), the same on a new ``runlab.Store(root)`` each time (new connection),
  ``len()`` of the result, and materialising ``list(...)`` of the records;
* every run of the store as records: ``list(runlab.runs())`` (records are built lazily, so
  this is the cost of building them), and the same reading ``id``, ``status``, ``created``
  and ``params`` of each (the cost of parsing on access);
* as whole processes, median of ``--process-repeat`` after one warm-up, stdout to a pipe:
  ``runlab list --limit 50 --root ...`` and ``runlab show <id> --root ...``; and a fresh
  ``python -c`` that imports runlab and runs the ``where`` query, once only counting the
  matches and once reading fields of every matching record (the whole-process figures next
  to the in-process ones).

Usage::

    python benchmarks/bench_queries.py --sizes 10000 100000 [--rebuild] [--json results.json]
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import PYTHON, STORES_DIR, bench_main, ensure_bytecode_caching, fmt_ms, median, time_process

WHERE = "params.a == 3"
RUNLAB = str(Path(PYTHON).parent / "runlab")


def _indexed_runs(root: Path) -> int | None:
    """How many runs the store's index holds (read-only; None without a usable index)."""
    path = root / ".runlab" / "index.sqlite"
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
    except sqlite3.Error:
        return None


def ensure_store(size: int, rebuild: bool = False) -> Path:
    """The benchmark store of ``size`` runs, built (or rebuilt) when needed."""
    from build_store import build_store

    root = STORES_DIR / f"runs-{size}"
    if rebuild or _indexed_runs(root) != size:
        print(f"  building {root} ...", flush=True)
        times = build_store(root, size, force=True)
        print(f"  built {size} runs in {times['total']:.1f} s (index {times['index']:.1f} s)", flush=True)
    return root


def time_call(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def measure(root: Path, repeat: int, process_repeat: int) -> dict[str, Any]:
    """All figures for one store."""
    import runlab

    rs = runlab.runs(where=WHERE, root=root)
    matched = len(rs)
    some_id = rs[len(rs) // 2].id

    def fresh_store() -> Any:
        store = runlab.Store(root)
        try:
            return store.runs(where=WHERE)
        finally:
            store.close()

    results = {
        "matched": matched,
        "runs_where_s": time_call(lambda: runlab.runs(where=WHERE, root=root), repeat),
        "runs_where_new_store_s": time_call(fresh_store, repeat),
        "len_s": time_call(lambda: len(runlab.runs(where=WHERE, root=root)), repeat),
        "list_s": time_call(lambda: list(runlab.runs(where=WHERE, root=root)), repeat),
    }

    def touch_all() -> None:
        for rec in runlab.runs(root=root):
            _ = (rec.id, rec.status, rec.created, rec.params)

    results["all_records_s"] = time_call(lambda: list(runlab.runs(root=root)), max(1, repeat // 3))
    results["all_records_fields_s"] = time_call(touch_all, max(1, repeat // 3))
    results["all_records_n"] = len(runlab.runs(root=root))
    query = f"import runlab; rs = runlab.runs(where={WHERE!r}, root={str(root)!r}); n = len(rs)"
    fields = "; _ = [(r.id, r.status, r.created, r.params['a']) for r in rs]"
    results["process_filter_s"] = median(time_process([PYTHON, "-c", query], process_repeat))
    results["process_filter_records_s"] = median(time_process([PYTHON, "-c", query + fields], process_repeat))
    list_argv = [RUNLAB, "list", "--limit", "50", "--root", str(root)]
    show_argv = [RUNLAB, "show", some_id, "--root", str(root)]
    results["cli_list_s"] = median(time_process(list_argv, process_repeat))
    results["cli_show_s"] = median(time_process(show_argv, process_repeat))
    return results


def run(sizes: list[int], repeat: int = 10, process_repeat: int = 5, rebuild: bool = False) -> dict[str, Any]:
    """Measure every size; return ``{str(size): figures}``."""
    out = {}
    for size in sizes:
        root = ensure_store(size, rebuild)
        out[str(size)] = measure(root, repeat, process_repeat)
    return out


def report(results: dict[str, Any]) -> None:
    print(f'queries (where "{WHERE}"; medians)')
    for size, r in results.items():
        print(f"  {int(size):,} runs ({r['matched']:,} match)")
        print(f"    runlab.runs(where=...)               {fmt_ms(r['runs_where_s']):>10}")
        print(f"    Store(root).runs(where=...) new conn {fmt_ms(r['runs_where_new_store_s']):>10}")
        print(f"    len(runlab.runs(where=...))          {fmt_ms(r['len_s']):>10}")
        print(f"    list(runlab.runs(where=...))         {fmt_ms(r['list_s']):>10}")
        print(f"    list(runlab.runs()), {r['all_records_n']:,} records   {fmt_ms(r['all_records_s']):>10}")
        print(f"      + reading id/status/created/params {fmt_ms(r['all_records_fields_s']):>10}")
        print(f"    process: import + runs(where=...)    {fmt_ms(r['process_filter_s']):>10}")
        print(f"    process: the same + fields of each   {fmt_ms(r['process_filter_records_s']):>10}")
        print(f"    runlab list --limit 50 (process)     {fmt_ms(r['cli_list_s']):>10}")
        print(f"    runlab show ID (process)             {fmt_ms(r['cli_show_s']):>10}")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="store sizes (runs)")
    parser.add_argument("--repeat", type=int, default=10, help="timed calls per in-process measurement")
    parser.add_argument("--process-repeat", type=int, default=5, help="timed processes per CLI measurement")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the stores even if they exist")


def main(argv: list[str] | None = None) -> None:
    bench_main(
        __doc__, _arguments, lambda args: run(args.sizes, args.repeat, args.process_repeat, args.rebuild), report, argv
    )


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
