"""Build a store of N finished runs quickly, then index it with ``Store(root).rebuild_index()``.

One real template run is recorded first with ``runlab.start_run`` (default settings, so
git and environment capture on), and every synthetic run is a copy of its ``run.json``
with its own ID, folder, times, parameters (``a`` = i % 10, ``lr``, ``opt``) and metric
summaries (``loss``, and ``acc`` for every other run), written with orjson exactly as
runlab writes it. The result is indexed with ``Store(root).rebuild_index()``.

Creating files is what costs (each new inode takes 50-800 us on the 2-core VM this was
tuned on), so by default only a fraction of the runs get their ``metrics.jsonl`` (it
holds exactly the points behind the summaries), and the captured files (``out.log``,
``code/``, ``env/``) are left out. ``--metrics-fraction 1 --captured-files`` makes every
folder complete; the captured files are then hard links to the first run's copies.

Usage::

    python benchmarks/build_store.py --runs 100000 --root benchmarks/.stores/runs-100000
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from _common import ensure_bytecode_caching

NAMESPACES = ("default", "mnist", "cifar10/resnet")
LEARNING_RATES = (0.1, 0.03, 0.01, 0.003, 0.001)
OPTIMIZERS = ("adam", "sgd", "adamw")
RUN_SPACING = 30.0  # seconds between the creation of consecutive runs
CHUNK = 2000  # runs per task of a worker process
_JSON_OPTS = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS  # as runlab's dumps()

_TEMPLATE_SOURCE = '''"""A tiny training script (the code snapshot of the template run)."""
import runlab

with runlab.start_run(params={"a": 3, "lr": 0.01, "opt": "adam"}) as run:
    for step in range(10):
        run.log_metric("loss", 1.0 / (step + 1))
'''


def record_template() -> tuple[dict[str, Any], dict[str, bytes]]:
    """Record one real run with default settings in a temporary store.

    Returns:
        Its ``run.json`` content, and the bytes of every other file it wrote except
        ``metrics.jsonl``, by path relative to the run folder.
    """
    import runlab

    with tempfile.TemporaryDirectory(prefix="runlab-template-") as tmp:
        source = Path(tmp) / "train.py"
        source.write_text(_TEMPLATE_SOURCE, encoding="utf-8")
        params = {"a": 3, "lr": 0.01, "opt": "adam"}
        with runlab.start_run(params=params, root=Path(tmp) / "store", source=source) as run:
            run.log_metric("loss", 1.0)
        folder = run.path
        meta = orjson.loads((folder / "run.json").read_bytes())
        files = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("run.json", "metrics.jsonl")
        }
        run.store.close()
    return meta, files


def _iso(epoch: float) -> str:
    """Local time with its UTC offset at that moment, as runlab writes it."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat()


def _param(value: Any) -> dict[str, Any]:
    return {"value": value, "type": type(value).__name__, "description": None, "usable": True}


def _series(rng: random.Random, lr: float, n: int) -> list[float]:
    return [round(math.exp(-lr * 20 * (s + 1)) + 0.05 + rng.random() * 0.01, 6) for s in range(n)]


def _summary(values: list[float]) -> dict[str, Any]:
    return {"last": values[-1], "min": min(values), "max": max(values), "count": len(values), "step": len(values) - 1}


def make_run(i: int, run_id: str, template: dict[str, Any], start: float, seed: int) -> tuple[dict[str, Any], bytes]:
    """The ``run.json`` content and ``metrics.jsonl`` bytes of synthetic run ``i`` (deterministic)."""
    rng = random.Random(seed * 1_000_000_007 + i)
    lr = LEARNING_RATES[rng.randrange(len(LEARNING_RATES))]
    t_created = start + (i + rng.random()) * RUN_SPACING
    t_started = t_created + 0.004 + rng.random() * 0.002
    duration = round(rng.uniform(2.0, 900.0), 6)
    t_ended = t_started + duration
    beat = t_ended - rng.random() * 5.0 if duration > 5.0 else t_started

    metrics = {"loss": _series(rng, lr, rng.randint(5, 40))}
    if i % 2 == 0:
        metrics["acc"] = [round(1.0 - v / 2, 6) for v in metrics["loss"][:: max(1, len(metrics["loss"]) // 5)]]
    lines = [
        orjson.dumps(
            {"name": name, "step0": 0, "value": values, "time": round(t_started + 0.5, 3)},
            option=orjson.OPT_APPEND_NEWLINE,
        )
        for name, values in metrics.items()
    ]

    meta = dict(template)  # same keys, same order as a real run.json
    meta.update(
        id=run_id,
        name=None,
        namespace=NAMESPACES[i % len(NAMESPACES)],
        status="completed",
        created=_iso(t_created),
        started=_iso(t_started),
        ended=_iso(t_ended),
        duration=duration,
        error=None,
        params={"a": _param(i % 10), "lr": _param(lr), "opt": _param(OPTIMIZERS[rng.randrange(len(OPTIMIZERS))])},
        heartbeat={**template["heartbeat"], "pid": rng.randint(1000, 4_000_000), "time": beat},
        metrics={name: _summary(values) for name, values in metrics.items()},
    )
    return meta, b"".join(lines)


def _unique_ids(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    ids: dict[str, None] = {}
    while len(ids) < n:
        ids[f"{rng.getrandbits(32):08x}"] = None
    return list(ids)


def _has_metrics_file(i: int, fraction: float) -> bool:
    """True for an evenly spread ``fraction`` of the runs (run 0 always)."""
    return i == 0 or int((i + 1) * fraction) > int(i * fraction)


def write_chunk(
    root: str, first: int, ids: list[str], template: dict[str, Any], extra: dict[str, bytes],
    start: float, seed: int, metrics_fraction: float, link_from: str | None,
) -> str:  # fmt: skip
    """Write runs ``first ..`` (one per ID); return the folder of the first one.

    Plain ``os`` calls on string paths keep the system calls to a minimum: one ``mkdir``
    per folder (and per captured sub-folder), one or two file writes, and the captured
    files ``extra`` as hard links to ``link_from``'s copies (written out when it is None).
    """
    subdirs = sorted({rel.rsplit("/", 1)[0] for rel in extra if "/" in rel})
    folders = []
    for offset, run_id in enumerate(ids):
        i = first + offset
        meta, metrics_bytes = make_run(i, run_id, template, start, seed)
        stamp = datetime.fromisoformat(meta["created"]).strftime("%Y-%m-%d_%H-%M-%S")
        folder = f"{root}/{meta['namespace']}/{stamp}_{run_id}"
        folders.append(folder)
        os.mkdir(folder)
        for sub in subdirs:
            os.mkdir(f"{folder}/{sub}")
        with open(f"{folder}/run.json", "wb") as handle:
            handle.write(orjson.dumps(meta, option=_JSON_OPTS) + b"\n")
        if _has_metrics_file(i, metrics_fraction):
            with open(f"{folder}/metrics.jsonl", "wb") as handle:
                handle.write(metrics_bytes)
        for rel, data in extra.items():
            if link_from is None:
                with open(f"{folder}/{rel}", "wb") as handle:
                    handle.write(data)
            else:
                os.link(f"{link_from}/{rel}", f"{folder}/{rel}")
    return folders[0]


def write_runs(
    root: Path,
    n: int,
    seed: int = 0,
    metrics_fraction: float = 0.1,
    captured_files: bool = False,
    workers: int | None = None,
) -> None:
    """Write ``n`` finished run folders under ``root`` (empty or absent), in parallel processes.

    The result depends on the arguments only, not on the number of workers.
    """
    template, extra = record_template()
    if not captured_files:
        extra = {}
    ids = _unique_ids(n, seed)
    start = time.time() - n * RUN_SPACING - 3600.0  # the last run ended before now
    for namespace in NAMESPACES:
        os.makedirs(root / namespace, exist_ok=True)
    if not n:
        return
    common = (template, extra, start, seed, metrics_fraction)
    shared = write_chunk(str(root), 0, ids[:1], *common, None)
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(write_chunk, str(root), i, ids[i : i + CHUNK], *common, shared) for i in range(1, n, CHUNK)
        ]
        for future in futures:
            future.result()


def build_store(
    root: str | os.PathLike[str],
    runs: int,
    seed: int = 0,
    force: bool = False,
    metrics_fraction: float = 0.1,
    captured_files: bool = False,
    workers: int | None = None,
) -> dict[str, float]:
    """Write ``runs`` run folders under ``root`` and index them; return the seconds each phase took."""
    from runlab import Store

    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not force:
            raise SystemExit(f"{root} is not empty; pass --force to replace it.")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    write_runs(root, runs, seed, metrics_fraction, captured_files, workers)
    t1 = time.perf_counter()
    store = Store(root)
    report = store.rebuild_index()
    store.close()
    t2 = time.perf_counter()
    if report.indexed != runs or report.problems:
        raise RuntimeError(f"Indexing found {report.indexed} runs (expected {runs}); problems: {report.problems[:5]}")
    return {"write": t1 - t0, "index": t2 - t1, "total": t2 - t0}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, required=True, help="number of finished runs to create")
    parser.add_argument("--root", required=True, help="store folder to create")
    parser.add_argument("--seed", type=int, default=0, help="random seed (IDs, parameters, metric values)")
    parser.add_argument("--force", action="store_true", help="replace the root if it is not empty")
    parser.add_argument(
        "--metrics-fraction", type=float, default=0.1, help="share of runs given a metrics.jsonl (default 0.1)"
    )
    parser.add_argument(
        "--captured-files", action="store_true", help="also write out.log, code/ and env/ (as hard links)"
    )
    parser.add_argument("--workers", type=int, default=None, help="writer processes (default: one per core)")
    args = parser.parse_args(argv)
    times = build_store(
        args.root,
        args.runs,
        seed=args.seed,
        force=args.force,
        metrics_fraction=args.metrics_fraction,
        captured_files=args.captured_files,
        workers=args.workers,
    )
    print(
        f"Built {args.runs} runs in {args.root}: {times['total']:.1f} s "
        f"(writing folders {times['write']:.1f} s, rebuild_index {times['index']:.1f} s)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
