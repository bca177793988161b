"""Run a sweep: one run request per config, on any executor, recorded, resumable.

:func:`run_sweep` makes the sweep's record (or finds it, when the same sweep was started
before), skips configs whose run completed, submits the rest to an executor, retries failures,
and keeps the record up to date as runs finish. ``sweep_started`` and ``sweep_finished`` hooks
fire around it.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from .._valueclass import value_class
from ..errors import UsageError
from ..executors import Executor, RunRequest, RunResult
from ..params import config_id
from ._record import SweepEntry, SweepRecord, load_sweep, sweep_dir

__all__ = ["SweepConfig", "SweepObserver", "index_folder", "plan_sweep", "preview_sweep", "run_sweep"]


@value_class(frozen=True)
class SweepConfig:
    """One config of a sweep: its id, its overrides and the request that runs it."""

    config: str
    argv: list[str]
    request: RunRequest


class SweepObserver(Protocol):
    """What a progress display gets told (every method optional in spirit; all are called)."""

    def sweep_start(self, record: SweepRecord, todo: int) -> None: ...
    def run_done(self, record: SweepRecord, entry: SweepEntry, result: RunResult, running: int) -> None: ...
    def sweep_end(self, record: SweepRecord) -> None: ...


def plan_sweep(
    requests: Sequence[tuple[Sequence[str], RunRequest]],
    name: str | None = None,
) -> tuple[str, list[SweepConfig]]:
    """The sweep id and one :class:`SweepConfig` per ``(argv, request)`` (from :func:`build_requests`).

    A config's id is a hash of its validated parameter values and target; the sweep's id a hash
    of its configs and run options, so the same sweep started again gets the same id (and
    resumes). Each request gets the links ``sweep`` (the sweep id) and ``trial`` (its config id).

    Example:
        >>> from pathlib import Path
        >>> from runlab.request import RunRequest, Target
        >>> reqs = [([], RunRequest(Target("script", Path("/tmp/t.py")), {"lr": lr})) for lr in (0.1, 0.2)]
        >>> sid, configs = plan_sweep(reqs)
        >>> len(sid), configs[0].request.links.sweep == sid, configs[0].request.links.trial == configs[0].config
        (8, True, True)
    """
    from ..request import Links

    ids = []
    for _, request in requests:
        t = request.target
        ids.append(config_id({"target": [t.kind, str(t.path), t.entrypoint, list(t.args), dict(t.kwargs)],
                              "params": dict(request.params)})[:12])  # fmt: skip
    options = requests[0][1].options if requests else None
    opts = {k: v for k, v in vars(options).items() if v not in (None, (), True)} if options else {}
    sweep_id = config_id({"configs": ids, "options": opts, "name": name})[:8]
    configs = []
    seen: set[str] = set()
    for (argv, request), cid in zip(requests, ids, strict=True):
        if cid in seen:
            continue  # the same config twice (e.g. random sampling drew it again): one run
        seen.add(cid)
        linked = replace(request, links=replace(request.links if isinstance(request.links, Links) else Links(),
                                                sweep=sweep_id, trial=cid))  # fmt: skip
        configs.append(SweepConfig(cid, list(argv), linked))
    if len(configs) < len(requests):  # said, not silent: `--sweep lr=0.1,0.1` or `bs=1,1.0` for an int
        import warnings

        from ..store import RunlabWarning

        repeated = len(requests) - len(configs)
        message = (f"{repeated} of the sweep's {len(requests)} configs repeat another one (the same values once "
                   f"typed): {len(configs)} distinct configs, each run once.")  # fmt: skip
        warnings.warn(message, RunlabWarning, stacklevel=2)
    return sweep_id, configs


def _reconcile(record: SweepRecord) -> None:
    """Bring entries up to date with the store's runs of this sweep (each names its config as ``trial``).

    A run may have finished after the sweep's process died, before the record heard of it.
    """
    from ..store import get_store

    store = get_store(record.root)
    entries = {e.config: e for e in record.entries}
    for run in store.runs(where=f"sweep == '{record.id}'", order_by="created"):
        entry = entries.get(str(run.metadata.get("trial")))
        if entry is None or entry.status == "completed":
            continue
        if run.status == "completed" or entry.run_id in (None, run.id):
            entry.run_id, entry.status = run.id, str(run.status)
            entry.attempts = max(entry.attempts, 1)


def _current_record(sweep_id: str, root: Path, configs: Sequence[SweepConfig], definition: Mapping[str, Any],
                    name: str | None, info: dict[str, Any]) -> SweepRecord:  # fmt: skip
    """The sweep's record as starting it now makes it, not saved: the one found (the configs it lacks added,
    its entries brought up to date with the store's runs) or a new one."""
    import os

    if (sweep_dir(root) / f"{sweep_id}.json").is_file():
        record = load_sweep(root, sweep_id)
        known = {e.config for e in record.entries}
        record.entries += [SweepEntry(c.config, c.argv) for c in configs if c.config not in known]
        record.state, record.ended, record.pid, record.executor = "running", None, os.getpid(), info
        _reconcile(record)
    else:
        entries = [SweepEntry(c.config, c.argv) for c in configs]
        record = SweepRecord(sweep_id, root, dict(definition), entries, name=name, executor=info)
    return record


def _todo(record: SweepRecord, configs: Sequence[SweepConfig], retry_failed: bool) -> list[SweepEntry]:
    """The entries that run: not those whose run completed, nor (without ``retry_failed``) failed or crashed."""
    planned = {c.config for c in configs}
    skip = ("completed",) if retry_failed else ("completed", "failed", "crashed")
    return [e for e in record.entries if e.config in planned and e.status not in skip]


def preview_sweep(
    configs: Sequence[SweepConfig], sweep_id: str, root: Path, *, retry_failed: bool = False
) -> tuple[SweepRecord, list[SweepEntry]]:
    """What :func:`run_sweep` would do now, changing nothing: the sweep's record as it would resume it and
    the entries it would run (the others it skips: their run completed, or failed before).

    Raises:
        UsageError: the sweep's record cannot be read (as :func:`run_sweep` would).
    """
    record = _current_record(sweep_id, root, configs, {}, None, {})
    return record, _todo(record, configs, retry_failed)


def run_sweep(
    configs: Sequence[SweepConfig],
    sweep_id: str,
    root: Path,
    executor: Executor,
    *,
    definition: Mapping[str, Any] | None = None,
    name: str | None = None,
    retry_failed: bool = False,
    max_retries: int = 0,
    fail_fast: bool = False,
    observer: SweepObserver | None = None,
    on_hook: Callable[..., Any] | None = None,
) -> SweepRecord:
    """Run the configs that still need a run; return the sweep's final record.

    Args:
        configs: from :func:`plan_sweep`.
        sweep_id, root: the sweep's id and the store's root folder.
        executor: where the runs execute (closed by the caller).
        definition: how the sweep was asked for (recorded; ``runlab sweep show`` prints it).
        retry_failed: also run again the configs whose run failed or crashed last time.
        max_retries: run a failed or crashed config again up to this many times.
        fail_fast: cancel the sweep at the first run that fails for good.
        observer: told about progress (see :class:`SweepObserver`).
        on_hook: called as ``on_hook(hook_name, **kwargs)`` for ``sweep_started`` and
            ``sweep_finished`` (default: the plugin manager).

    Raises:
        KeyboardInterrupt: after Ctrl-C cancelled the runs and the record says ``cancelled``.
        UsageError: the same sweep is running in another process (nothing is run: two processes
            would run every config twice).
    """
    with _one_process(root, sweep_id):  # two processes would run every config twice
        info = {"name": executor.name, "workers": executor.workers}
        record = _current_record(sweep_id, root, configs, definition or {}, name, info)
        record.save()
        by_config = {c.config: c for c in configs}
        todo = _todo(record, configs, retry_failed)
        hook = on_hook or _apply_hook
        hook("sweep_started", sweep=record, configs=[e.argv for e in todo])
        if observer:
            observer.sweep_start(record, len(todo))
        results: list[RunResult] = []
        interrupted: BaseException | None = None
        tickets: dict[cf.Future[RunResult], SweepEntry] = {}
        retries: dict[str, int] = {}

        def submit(entry: SweepEntry) -> None:
            executor.submit_to(tickets, entry, by_config[entry.config].request)

        try:
            for entry in todo:
                submit(entry)
            while tickets:
                done, _ = cf.wait(list(tickets), return_when=cf.FIRST_COMPLETED)
                for future in done:
                    entry = tickets.pop(future)
                    result = future.result()
                    if not executor.index_writes:
                        index_folder(root, result.folder)
                    _note(entry, result)
                    results.append(result)
                    if observer:
                        observer.run_done(record, entry, result, executor.running)
                    bad = result.status in ("failed", "crashed")
                    if bad and retries.get(entry.config, 0) < max_retries and not executor.cancelled:
                        retries[entry.config] = retries.get(entry.config, 0) + 1
                        submit(entry)
                    elif bad and fail_fast and not executor.cancelled:
                        executor.cancel()
                record.save()
        except KeyboardInterrupt as exc:
            interrupted = exc
            executor.cancel()
            for future, entry in tickets.items():
                result = future.result()
                _note(entry, result)
                results.append(result)
        record.state = _final_state(record, executor.cancelled or interrupted is not None)
        import time

        record.ended = time.time()
        record.save()
        if observer:
            observer.sweep_end(record)
        hook("sweep_finished", sweep=record, runs=results)
        if interrupted is not None:
            raise interrupted
        return record


@contextmanager
def _one_process(root: Path, sweep_id: str) -> Iterator[None]:
    """Hold sweep ``sweep_id`` for this process (an flock the system drops when the process ends).

    Raises:
        UsageError: another process holds it (nothing is run).
    """
    from ..store._folder_locks import FolderLocks

    locks = FolderLocks(root)
    held = sweep_dir(root) / sweep_id
    if not locks.hold(held):
        raise UsageError(
            f"Sweep {sweep_id} is running in another process. Wait for it to end (or stop it there), then run the "
            "same command again: it resumes the sweep."
        )
    try:
        yield
    finally:
        locks.release(held)


def index_folder(root: Path, folder: Path | None) -> None:
    """Index a run folder written where the index was not (a run on another host); skips a missing folder."""
    if folder is None:
        return
    from ..store import get_store

    get_store(root).index_folder(Path(folder))


def _note(entry: SweepEntry, result: RunResult) -> None:
    if result.run_id is None and result.status == "cancelled":
        return  # never started: the entry keeps its state and runs when the sweep is resumed
    entry.attempts += 1
    entry.run_id = result.run_id or entry.run_id
    entry.status = result.status
    entry.error = result.error


def _final_state(record: SweepRecord, cancelled: bool) -> str:
    if cancelled:
        return "cancelled"
    return "completed" if all(e.status == "completed" for e in record.entries) else "failed"


def _apply_hook(name: str, **kwargs: Any) -> None:
    from ..hooks import get_registry  # plugins load as for a run: only where one is configured

    get_registry().apply(name, **kwargs)
