"""The ``slurm`` executor: runs as SLURM job arrays through submitit.

Requests submitted together go out as one job array; at most ``workers`` jobs are out at a time. Each job
runs one request in the job's process and sends its result back through submitit's folder. A
preempted or timed-out job is requeued (submitit's checkpointing) and resumes its run: same ID and
folder, metrics continue.
Every node must see the store and the experiment files at the same paths (a shared filesystem).
``cluster="local"`` runs the jobs as local processes with submitit's local executor (tests,
debugging without SLURM). ``submitit`` is imported only when the executor is created.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import submitit

from ..errors import UsageError
from ..store import RunStatus
from ._base import Executor
from ._ship import RunRequest, RunResult, environment

__all__ = ["SHARED_FILESYSTEMS", "SlurmExecutor", "filesystem_type"]

SHARED_FILESYSTEMS = ("nfs", "nfs4", "lustre", "gpfs", "beegfs", "cephfs", "ceph", "cifs", "smb3", "smbfs",
                      "glusterfs", "fuse.glusterfs", "fuse.sshfs", "panfs", "wekafs", "9p")  # fmt: skip


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding ``path`` (from /proc/mounts), or None where unknown."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, kind = "", None
    for line in mounts:
        parts = line.split()
        inside = len(parts) > 2 and (target == parts[1] or target.startswith(parts[1].rstrip("/") + "/"))
        if inside and len(parts[1]) > len(best):
            best, kind = parts[1], parts[2]
    return kind


#: SLURM's state of a job whose function returned: its result is on the way even where the watcher cannot see it yet.
_RETURNED = "COMPLETED"

#: The error a run records when SLURM interrupts its job (preemption, or the time limit).
INTERRUPTED = "interrupted by SLURM (preemption or the job's time limit); the requeued job resumes this run"


def _run_ended(result: Path) -> bool:
    """Whether ``result`` holds the result of a run that completed or failed (one that was interrupted,
    and so requeued, ended ``cancelled``)."""
    try:
        status = json.loads(result.read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return False
    return status in (RunStatus.COMPLETED.value, RunStatus.FAILED.value)


def continue_lost_attempt(request_json: str, result: Path, poll: float = 1.0) -> str:
    """The request a SLURM job runs: set to resume the run that an earlier attempt of the same job
    started and never ended. That attempt's node failed and SLURM requeued the job (``--requeue``),
    which runs the same submission again: without this it would start a second run and leave the
    first one crashed. A preempted job is requeued already set to resume (:meth:`_Job.checkpoint`).

    The earlier attempt's run reads as running until its heartbeat is stale (``RUNLAB_STALE_AFTER``
    seconds when it ran on another host; at once on this one): this waits for that, a little longer
    than that many seconds at most (SLURM notices a failed node later than that anyway). A run that
    ended, or cannot be read, is left alone: the job then runs the request as it was submitted.
    """
    from ..request import RunRequest
    from ..store import effective_status
    from ..store._files import read_json
    from ..store._index import STALE_REMOTE

    announced = result.with_name(result.name + ".run")
    request = RunRequest.from_json(request_json)
    if request.options.resume is not None or not announced.is_file():
        return request_json
    deadline = time.monotonic() + STALE_REMOTE + 2 * poll
    while True:
        try:
            folder = Path(read_json(announced)["folder"])
            meta = read_json(folder / "run.json")
            beat = meta.get("heartbeat") or {}
            status = effective_status(str(meta["status"]), beat.get("pid"), beat.get("host"), beat.get("time"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return request_json
        if status != RunStatus.RUNNING.value or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    if status not in (RunStatus.CRASHED.value, RunStatus.CANCELLED.value, RunStatus.CREATED.value):
        return request_json
    print(f"runlab: an earlier attempt of this job left run {meta.get('id')} {status} in {folder}; "
          "this attempt resumes it.", file=sys.stderr, flush=True)  # fmt: skip
    return request.with_options(resume=str(folder)).to_json()


class _Job(submitit.helpers.Checkpointable):  # type: ignore[misc]
    """What a SLURM job runs: one request. When SLURM preempts the job (or its time is nearly up),
    submitit calls :meth:`checkpoint`: the run ends ``cancelled`` and the job is requeued with the
    same request set to resume that run (same ID and folder; metrics continue)."""

    def __init__(self, request_json: str, result_file: str, cwd: str, env: dict[str, str]) -> None:
        self.args = (request_json, result_file, cwd, env)
        self._interrupted = False

    def __call__(self) -> str:
        import signal

        from ._child import run_request_file

        request_json, result_file, cwd, env = self.args
        signal.signal(signal.SIGINT, signal.default_int_handler)  # submitit cancels with SIGINT
        if os.path.isdir(cwd):
            os.chdir(cwd)
        os.environ.update({k: v for k, v in env.items() if not k.startswith(("SLURM_", "SUBMITIT_"))})
        result = Path(result_file)
        if _run_ended(result):  # an earlier attempt of this job ended its run; SLURM requeued the job after that
            return result.read_text(encoding="utf-8")
        result.unlink(missing_ok=True)  # an interrupted attempt's (cancelled): not this attempt's, should it die
        request_json = continue_lost_attempt(request_json, result)
        request_file = result.with_name(result.name.replace(".result.json", ".json"))
        request_file.write_text(request_json, encoding="utf-8")
        ended_by = run_request_file(request_file, result)
        if self._interrupted and isinstance(ended_by, SystemExit):
            raise ended_by  # submitit requeued the job and exits it: let it (the run caught it)
        return result.read_text(encoding="utf-8")

    def checkpoint(self) -> Any:
        """End the open run ``cancelled`` and requeue the request, set to resume it (submitit calls this
        in the job's process on preemption and timeout); None (no requeue) when the run had finished."""
        from ..lifecycle import open_runs
        from ..request import RunRequest

        self._interrupted = True
        request_json, result_file, cwd, env = self.args
        request = RunRequest.from_json(request_json)
        runs = open_runs()
        if runs:
            run = runs[-1]
            run.finish("cancelled", INTERRUPTED)
            request = request.with_options(resume=str(run.path))  # its folder: jobs do not read the index
        elif Path(result_file + ".run").is_file() and request.options.resume is None:
            return None  # the run finished already: nothing to requeue
        return submitit.helpers.DelayedSubmission(_Job(request.to_json(), result_file, cwd, env))


class SlurmExecutor(Executor):
    """Runs requests as SLURM job arrays with submitit.

    Args:
        workers: jobs of an array running at once (``--array=...%N``).
        partition, time, cpus, gpus, mem, account: the jobs' SLURM resources (``time`` in
            minutes, ``mem`` in GB).
        folder: where submitit keeps job files and logs (on a shared filesystem).
        cluster: ``"slurm"`` (default), or ``"local"`` to run the jobs as local processes.
        poll: seconds between job state checks.
        signal_delay: seconds before the time limit that SLURM signals a job (``--signal=USR2@N``):
            its run ends ``cancelled``, the job is requeued and resumes the run.
        index: the jobs write the store's SQLite index too (default False: SQLite locking is not
            safe over NFS; the submitting process indexes each finished run's folder).

    Raises:
        UsageError: ``sbatch`` is not on PATH (for ``cluster="slurm"``); ``folder`` cannot be made.
    """

    name = "slurm"

    def __init__(self, workers: int = 16, partition: str | None = None, time: float = 60.0, cpus: int = 1,
                 gpus: int = 0, mem: float | None = None, account: str | None = None, folder: str | None = None,
                 cluster: str = "slurm", poll: float = 0.5, index: bool = False,
                 signal_delay: int = 90) -> None:  # fmt: skip
        super().__init__(workers=workers)
        if cluster not in ("slurm", "local"):
            raise UsageError(f"Invalid cluster {cluster!r} for the slurm executor: use 'slurm' or 'local'.")
        if cluster == "slurm" and shutil.which("sbatch") is None:
            raise UsageError("The slurm executor needs SLURM's 'sbatch', which is not on PATH. Run on a SLURM "
                             "login node, or use -x local or -x dask.")  # fmt: skip
        self._folder = Path(folder) if folder else Path(tempfile.gettempdir()) / "runlab-slurm"
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file, a path under one, a place it may not write (nothing submitted yet)
            raise UsageError(f"Invalid folder {str(self._folder)!r} for the slurm executor's job files: "
                             f"{exc.strerror or exc}. Give a folder it can create and write, on a filesystem "
                             "the nodes share (option 'folder').") from None  # fmt: skip
        if cluster == "slurm":
            self._check_shared(self._folder)
        if signal_delay < 0:
            raise UsageError(f"Invalid signal_delay {signal_delay!r} for the slurm executor: expected seconds >= 0.")
        self._submitit: Any
        self._local = cluster == "local"
        if cluster == "local":  # submitit's own local executor: fractional minutes and the signal delay too
            self._submitit = submitit.LocalExecutor(folder=str(self._folder / "%j"))
            self._submitit.update_parameters(timeout_min=time, cpus_per_task=cpus, signal_delay_s=signal_delay)
        else:
            self._submitit = submitit.AutoExecutor(folder=str(self._folder / "%j"), cluster=cluster)
            params: dict[str, Any] = {
                "timeout_min": int(time),
                "cpus_per_task": cpus,
                "slurm_array_parallelism": workers,
                "slurm_signal_delay_s": signal_delay,
            }
            params.update({k: v for k, v in {"slurm_partition": partition, "gpus_per_node": gpus or None,
                           "mem_gb": mem, "slurm_account": account}.items() if v is not None})  # fmt: skip
            self._submitit.update_parameters(**params)
        self._pending: list[tuple[RunRequest, cf.Future[RunResult]]] = []
        self._jobs: list[tuple[Any, cf.Future[RunResult], Path]] = []
        self._env = environment()
        self.index_writes = index
        if not index:
            self._env["RUNLAB_INDEX_WRITES"] = "0"
        self._cwd = os.getcwd()
        self._poll = poll
        self._ended: dict[Path, float] = {}  # result file -> when its job was first seen ended without a result
        self._count = 0
        # names this executor's files in the shared job folder: id(self) came back for a later executor of
        # this process once this one was gone, which then read this one's result files as its own jobs'
        self._token = secrets.token_hex(8)
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="runlab-slurm-watch", daemon=True)
        self._watcher.start()

    @staticmethod
    def _check_shared(folder: Path) -> None:
        kind = filesystem_type(folder)
        if kind is not None and kind not in SHARED_FILESYSTEMS:
            print(f"runlab: warning: {folder} is on a {kind} filesystem; SLURM nodes may not see it. Put the "
                  "store and the job folder on a filesystem the nodes share (NFS, Lustre, GPFS ...).",
                  file=sys.stderr)  # fmt: skip

    def _start(self, request: RunRequest) -> cf.Future[RunResult]:
        future: cf.Future[RunResult] = cf.Future()
        with self._lock:
            self._pending.append((request, future))
        return future

    def _flush(self) -> None:
        """Submit the requests gathered so far as one job array, keeping at most ``workers`` jobs out."""
        with self._lock:
            room = max(self.workers - len(self._jobs), 0)
            pending, self._pending = self._pending[:room], self._pending[room:]
        if not pending:
            return
        tasks = []
        for request, future in pending:
            self._count += 1
            result_file = self._folder / f"{os.getpid()}-{self._token}-{self._count}.result.json"
            tasks.append((_Job(request.to_json(), str(result_file), self._cwd, self._env), future, result_file))
        with self._submitit.batch():
            jobs = [self._submitit.submit(task) for task, _, _ in tasks]
        with self._lock:
            for job, (_, future, result_file) in zip(jobs, tasks, strict=True):
                self._jobs.append((job, future, result_file))
                self._running += 1

    def _watch(self) -> None:
        while not self._stop.is_set():
            if not self.cancelled:
                self._flush()
            with self._lock:
                jobs = list(self._jobs)
            for job, future, result_file in jobs:
                result = self._outcome(job, result_file) if job.done(force_check=True) else None
                if result is None:
                    continue
                with self._lock:
                    self._jobs.remove((job, future, result_file))
                    self._running -= 1
                    self._ended.pop(result_file, None)
                future.set_result(result)
            self._stop.wait(self._poll)

    def _outcome(self, job: Any, result_file: Path) -> RunResult | None:
        """The result of a job that ended, or None while it may still be on its way (never blocks).

        submitit's ``job.result()`` waits up to 15 s for the result of a job that died without one (the OOM
        killer, SIGKILL, a segfault): in this one watcher thread, each dead job held back every other
        job's result. So submitit is asked only once its result file exists; until then runlab's own
        files say what the run did: its result file, else, once the job has had a poll or two to show
        one, the run it announced (``crashed``). A job SLURM reports ``COMPLETED`` returned, so its
        result is coming (a shared filesystem may show it late): it gets submitit's own wait instead.
        """
        from ._process import read_result

        if job.paths.result_pickle.exists():
            try:
                return RunResult.from_json(job.result())
            except BaseException as exc:  # the job raised, or was cancelled: what did its run leave?
                return self._lost(job, read_result(result_file, None), exc)
        try:  # the run ended, and submitit's file is late (or the job died after the run ended)
            return RunResult.from_json(result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, UsageError):
            pass
        ended = self._ended.setdefault(result_file, time.monotonic())
        wait = submitit.core.core.Job._results_timeout_s if job.state == _RETURNED else 2 * self._poll
        return None if time.monotonic() - ended < wait else self._lost(job, read_result(result_file, None), None)

    def _lost(self, job: Any, result: RunResult, exc: BaseException | None) -> RunResult:
        """``result`` (``crashed``, naming the run the job's process announced), or where the job made no
        run, the job's own end: ``exc``, what submitit raised for it, or its state."""
        if result.run_id is not None:
            return result
        status = RunStatus.CANCELLED if self.cancelled else RunStatus.FAILED
        if exc is None:
            error = f"the SLURM job ended ({job.state}) before its run started; its log: {job.paths.stderr}"
        else:
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            error = f"the SLURM job ended: {type(exc).__name__}: {last}"
        return RunResult(None, status, None, error=error)

    def _cancel_running(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            jobs = list(self._jobs)
        from ._ship import not_started

        for _, future in pending:
            future.set_result(not_started())
        for job, _, _ in jobs:
            try:
                self._cancel_job(job)
            except Exception:
                pass

    def _cancel_job(self, job: Any) -> None:
        """Cancel one job. SLURM's ``scancel`` sends SIGTERM. submitit cancels a local job with SIGINT,
        which its controller ignores when this process was started with SIGINT ignored (as a
        background job is), so the run went on: local jobs get SIGTERM, as under SLURM."""
        process = getattr(job, "_process", None) if self._local else None
        if process is not None:
            process.send_signal(signal.SIGTERM)
        else:
            job.cancel(check=False)

    def close(self) -> None:
        deadline = time.monotonic() + 3600
        while (self._jobs or self._pending) and time.monotonic() < deadline:
            time.sleep(self._poll)
        self._stop.set()
