"""The runlab store backend: each decorated function's branches are rows of one session run's branch log.

Why a log row and not a run per branch: a run costs a folder, ``run.json`` and an index
transaction (about a millisecond), two orders of magnitude above the 5,000 branches per
second a live service needs. A branch is one observation of a long-lived function, like a
metric point of a run, so it is recorded the same way: a **session run** per decorated
function and process (tag ``branch``, ``experiment`` = the function, params = strategy and
config pool) holds an append-only ``branches.jsonl``, written in batches by a background
thread. The session run is found through the index like any run (``runlab.runs(tags="branch")``),
and its folder stays the truth: :func:`~runlab.branch.read_branches` reads the log back.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..lifecycle import Run, add_listener
from ..store import Store, get_store
from ..store._files import dumps
from ._background import ensure_exit_hook
from ._branch import Branch
from ._loggers import BranchSession, BufferedLogger

__all__ = ["BRANCH_LOG", "BRANCH_TAG", "StoreLogger"]

BRANCH_LOG = "branches.jsonl"
"""The branch log's file name inside a session run's folder."""
BRANCH_TAG = "branch"
"""The tag of session runs."""
_STATUSES = ("success", "failed", "skipped", "cancelled")


class _Session:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.path = Path(run.path) / BRANCH_LOG
        self.counts = dict.fromkeys(_STATUSES, 0)
        self.per_config: dict[str, dict[str, Any]] = {}


class StoreLogger(BufferedLogger):
    """Record branches in the runlab store (see the module docstring for the layout).

    Each line of ``branches.jsonl`` holds ``config_id``, ``role``, ``call_id``, ``status``,
    ``start_ts``, ``end_ts``, ``duration``, ``output`` (a summary: small JSON values as they are,
    other values as text cut to 2,000 characters) and ``exception`` (type, message,
    traceback). The config itself is in the session run's params (``configs``), by id.
    The session run also keeps counts per status (metrics ``branches/success`` ...) and per
    config (data ``branches``); it completes when the logger closes (at exit, by default).

    Args:
        root: the store (default: ``RUNLAB_ROOT``, ``[tool.runlab] root`` or ``./runs``).
        namespace: the session runs' namespace.
        flush_interval: seconds between batch writes.

    Example:
        >>> import tempfile, runlab, runlab.branch as rb
        >>> log = rb.StoreLogger(root=tempfile.mkdtemp())
        >>> @rb.branch(configs=[{"n": 1}, {"n": 2}], strategy="multi_branch", logger=log)
        ... def double(config):
        ...     return 2 * config["n"]
        >>> _ = double()
        >>> log.close()
        >>> session = runlab.runs(tags="branch", root=log.store)[0]
        >>> sorted(r["output"] for r in rb.read_branches(session))
        [2, 4]
    """

    def __init__(self, root: str | os.PathLike[str] | Store | None = None, namespace: str = "branches",
                 flush_interval: float = 0.5) -> None:  # fmt: skip
        super().__init__(flush_interval)
        from ..store import validate_namespace

        self.store = get_store(root)
        self.namespace = validate_namespace(namespace)
        self._sessions: dict[str, _Session] = {}
        self._runs: dict[str, _Session] = {}
        self._remove_listener: Any = None
        self._session_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"StoreLogger({str(self.store.root)!r}, namespace={self.namespace!r})"

    def _after_fork(self) -> None:
        super()._after_fork()
        self._sessions = {}  # the parent's session runs are the parent's: the child opens its own
        self._runs = {}
        self._session_lock = threading.Lock()

    def session_run(self, session: BranchSession) -> Run | None:
        """The session run of ``session`` (None until its first branch is written)."""
        entry = self._sessions.get(session.id)
        return entry.run if entry is not None else None

    def _open(self, session: BranchSession) -> _Session:
        entry = self._sessions.get(session.id)
        if entry is not None:
            return entry
        with self._session_lock:
            run = Run.create(store=self.store, namespace=self.namespace, name=session.function.rsplit(".", 1)[-1],
                             params={"function": session.function, "strategy": session.strategy,
                                     "session": session.id, "configs": session.config_table()},
                             tags=[BRANCH_TAG], experiment=session.function,
                             description=f"Branches of {session.function} ({session.strategy})",
                             capture=False, capture_output=False)  # fmt: skip
            run.start()
            entry = _Session(run)
            entry.path.touch()
            self._sessions[session.id] = entry
            self._runs[run.id] = entry
            if self._remove_listener is None:
                self._remove_listener = add_listener(self._on_event)
        ensure_exit_hook()  # after the run's own exit hook: branches are written before it finishes runs
        return entry

    def _on_event(self, event: str, run: Any, **data: Any) -> None:
        # someone else finishes a session run (runlab's exit hook, finish_open_runs): write first
        if event == "run_finishing" and run.id in self._runs and not self._closed:
            self.flush()

    def _write(self, batch: Sequence[tuple[Branch, BranchSession]]) -> None:
        groups: dict[str, list[Branch]] = {}
        sessions: dict[str, BranchSession] = {}
        for branch, session in batch:
            groups.setdefault(session.id, []).append(branch)
            sessions[session.id] = session
        for sid, branches in groups.items():
            entry = self._open(sessions[sid])
            rows = []
            for branch in branches:
                row = branch.to_dict()
                del row["config"]
                rows.append(row)
            data = b"\n".join(dumps(row, indent=False) for row in rows) + b"\n"
            with open(entry.path, "ab") as handle:
                handle.write(data)
            self._summarise(entry, rows)

    def _summarise(self, entry: _Session, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            status = row["status"]
            entry.counts[status] = entry.counts.get(status, 0) + 1
            per = entry.per_config.setdefault(row["config_id"], {**dict.fromkeys(_STATUSES, 0), "seconds": 0.0})
            per[status] = per.get(status, 0) + 1
            per["seconds"] += row["duration"] or 0.0
        run = entry.run
        if run.status != "running":
            return
        run.log_metrics({f"branches/{k}": v for k, v in entry.counts.items()})
        run.data["branches"] = {
            cid: {**{k: v for k, v in per.items() if k != "seconds"},
                  "mean_duration": per["seconds"] / max(1, sum(per[s] for s in _STATUSES))}
            for cid, per in entry.per_config.items()
        }  # fmt: skip

    def _finish(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        for entry in self._sessions.values():
            if entry.run.status == "running":
                entry.run.complete()
