"""``Store.rebuild_index()`` on stores of 10,000 and 100,000 finished runs: time, peak memory,
and how long each write transaction holds the write lock.

For each size the store (``benchmarks/.stores/runs-<N>``, built by ``build_store.py`` when
missing, shared with ``bench_queries.py``) has its index deleted and rebuilt in a fresh
process, twice:

* plain: wall time and CPU time (the latter is steadier on a busy machine), the process's
  peak resident memory (``ru_maxrss``) next to that of a process that only imports runlab
  and opens the store, and the write-lock hold times (each chunk's transaction and the
  final one: count, median, maximum);
* under ``tracemalloc``: the peak of Python allocations during the rebuild (slower; only
  the memory figure is kept).

Usage::

    python benchmarks/bench_rebuild.py --sizes 10000 100000 [--no-tracemalloc] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

from _common import PYTHON, REPO, bench_main, clean_env, ensure_bytecode_caching

CHILD = r"""
import json, resource, shutil, sys, time
from pathlib import Path
root, traced = Path(sys.argv[1]), sys.argv[2] == "1"
import runlab
from runlab.store import _index
holds = []
real_chunk, real_finish = _index.Index.write_chunk, _index.Index.finish_rebuild
def timed(real):
    def wrapper(self, *args):
        start = time.perf_counter()
        try:
            return real(self, *args)
        finally:
            holds.append(time.perf_counter() - start)
    return wrapper
_index.Index.write_chunk = timed(real_chunk)
_index.Index.finish_rebuild = timed(real_finish)
shutil.rmtree(root / ".runlab", ignore_errors=True)
store = runlab.Store(root)
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if traced:
    import tracemalloc
    tracemalloc.start()
cpu = time.process_time()
start = time.perf_counter()
report = store.rebuild_index()
elapsed = time.perf_counter() - start
cpu = time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1] if traced else None
holds.sort()
print(json.dumps({
    "indexed": report.indexed, "seconds": elapsed, "cpu_seconds": cpu, "base_rss_kb": base_rss,
    "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "tracemalloc_peak_b": peak,
    "transactions": len(holds), "hold_median_s": holds[len(holds) // 2], "hold_max_s": holds[-1],
}))
"""


def rebuild_in_child(root: Path, traced: bool) -> dict[str, Any]:
    done = subprocess.run([PYTHON, "-c", CHILD, str(root), "1" if traced else "0"], capture_output=True, text=True,
                          env=clean_env(PYTHONPATH=str(REPO / "src")), check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"rebuild failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(sizes: list[int], tracemalloc: bool = True) -> dict[str, Any]:
    from bench_queries import ensure_store

    out: dict[str, Any] = {}
    for size in sizes:
        root = ensure_store(size)
        figures = rebuild_in_child(root, traced=False)
        if figures["indexed"] != size:
            raise RuntimeError(f"rebuild indexed {figures['indexed']} runs, expected {size}")
        if tracemalloc:
            figures["tracemalloc_peak_b"] = rebuild_in_child(root, traced=True)["tracemalloc_peak_b"]
        out[str(size)] = figures
    return out


def report(results: dict[str, Any]) -> None:
    print("Store.rebuild_index() in a fresh process (index deleted first)")
    for size, r in results.items():
        traced = r.get("tracemalloc_peak_b")
        print(f"  {int(size):,} runs")
        print(f"    time (wall / CPU of the process)      {r['seconds']:>9.2f} s / {r['cpu_seconds']:.2f} s")
        print(f"    peak RSS (process)                    {r['peak_rss_kb'] / 1024:>9.1f} MB "
              f"(before the rebuild: {r['base_rss_kb'] / 1024:.1f} MB)")  # fmt: skip
        if traced is not None:
            print(f"    tracemalloc peak during the rebuild   {traced / 2**20:>9.1f} MB")
        print(f"    write transactions                    {r['transactions']:>9,}")
        print(f"    write lock held, median / max         {r['hold_median_s'] * 1000:>6.1f} / "
              f"{r['hold_max_s'] * 1000:.1f} ms")  # fmt: skip


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="store sizes (runs)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the (slow) tracemalloc run")


def main(argv: list[str] | None = None) -> None:
    bench_main(__doc__, _arguments, lambda args: run(args.sizes, not args.no_tracemalloc), report, argv)


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
