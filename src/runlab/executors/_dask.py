"""The ``dask`` executor: runs on a Dask cluster (a ``LocalCluster`` by default).

Each run is one Dask task; the task starts the run in its own process on the worker (see
:class:`~runlab.executors._process.RunProcess`), so a run that kills its process is ``crashed``
and the worker goes on. Cancelling sets a Dask ``Event`` the tasks watch: running runs get
SIGINT and record themselves ``cancelled``. A run whose worker is lost dies with it and ends
``crashed``; Dask's own re-run of the task reports that run instead of making another, so
``--max-retries`` alone decides whether the config runs again (see docs/executors.md).
``distributed`` is imported only when the executor is created.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..store import RunStatus
from ._base import Executor
from ._ship import RunRequest, RunResult, crashed, environment, not_started

__all__ = ["DaskExecutor"]


def _task(request_json: str, cwd: str, env: dict[str, str], event: str, grace: float, token: str) -> str:
    """Runs on a worker: the request in its own process, watching the cancel event.

    As soon as the run exists, its id goes to the scheduler (the Dask ``Variable`` ``token``). When
    the worker is lost mid-run, the run's process dies with it and Dask may start this task again
    on another worker: that attempt finds the variable set and returns the lost run as ``crashed``
    instead of making a second run (runlab's ``--max-retries`` decides about running it again).
    """
    from distributed import Event, Variable

    from ._process import RunProcess

    cancel = Event(event)
    announced = Variable(token)
    lost = _announced_run(announced)
    if lost is not None:
        return crashed(lost, LOST).to_json()
    folder = Path(tempfile.mkdtemp(prefix="runlab-dask-"))
    try:
        if cancel.is_set():
            return not_started().to_json()
        request_file = folder / "request.json"
        request_file.write_text(request_json, encoding="utf-8")
        proc = RunProcess(request_file, cwd if os.path.isdir(cwd) else str(folder), env)
        run_file = proc.result_file.with_name(proc.result_file.name + ".run")
        published = False
        killed_at: float | None = None
        while not proc.poll(0.25 if published else 0.05):
            if not published and run_file.is_file():
                announced.set(run_file.read_text(encoding="utf-8"))
                published = True
            if killed_at is None and cancel.is_set():
                proc.interrupt()
                killed_at = time.monotonic()
            elif killed_at is not None and time.monotonic() - killed_at > grace:
                proc.kill()
        return proc.wait().to_json()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


#: The error of a run whose Dask worker was lost while it ran.
LOST = "the Dask worker running it was lost (its process died, or its node failed) before the run finished"


def _announced_run(variable: Any) -> dict[str, Any] | None:
    """The run (``{"id", "folder"}``) a task's earlier attempt announced, or None."""
    import json

    try:
        text = variable.get(timeout=30)  # set (empty) before the task was submitted
    except TimeoutError:
        return None
    try:
        run = json.loads(text)
    except (TypeError, ValueError):
        return None
    return run if isinstance(run, dict) and run.get("id") else None


#: Address schemes that reach their scheduler over TCP (a refused connection means nothing listens there).
_TCP_SCHEMES = ("tcp", "tls", "ws", "wss")


def scheduler_problem(address: str) -> str | None:
    """What is wrong with ``address`` as a Dask scheduler's address (None: nothing), checked before
    anything is contacted: empty, no port, a port out of range, an unknown scheme (``http://``) ...

    Example:
        >>> scheduler_problem("tcp://10.0.0.5:8786") is None
        True
        >>> scheduler_problem("tcp://10.0.0.5:70000")
        'port 70000 is out of range 1-65535'
    """
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    if not address.strip():
        return "it is empty"
    try:
        scheme, location = parse_address(address)
        registry.get_backend(scheme)
        if scheme in (*_TCP_SCHEMES, "ucx"):
            _, port = parse_host_port(location)
            if not 1 <= int(port) <= 65535:
                return f"port {port} is out of range 1-65535"
    except ValueError as exc:
        return str(exc)
    return None


def _shake_hands(address: str, timeout: float) -> None:
    """Connect to ``address`` and shake hands as a Dask client does, within ``timeout`` seconds.

    ``distributed`` waits for the other end's handshake without a limit, so a port that takes the
    connection and never answers (a web server, anything but a Dask scheduler) hung the sweep; and it
    tries a refused connection again until ``timeout``, so a wrong port took that long to report: a
    TCP address is tried once first.

    Raises:
        OSError: nothing answers there; TimeoutError: no Dask handshake within ``timeout`` seconds.
    """
    import asyncio

    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.core import connect
    from distributed.security import Security

    async def reach(host: str, port: int) -> None:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no connection to {host}:{port} within {timeout:g} s") from None
        except ConnectionRefusedError:
            raise ConnectionRefusedError(f"nothing listens on port {port} of {host}") from None
        writer.close()

    async def probe() -> None:
        scheme, location = parse_address(address)
        if scheme in _TCP_SCHEMES:
            await reach(*parse_host_port(location))
        args = Security().get_connection_args("client")
        try:
            comm = await asyncio.wait_for(connect(address, timeout=timeout, **args), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no Dask handshake within {timeout:g} s: is it a Dask scheduler's port?") from None
        except OSError:
            raise
        except Exception:  # it answered, but not in Dask's protocol (the reply read as a frame of exabytes ...)
            raise OSError("it answered, but not in Dask's protocol: is it a Dask scheduler's port?") from None
        await comm.close()

    with cf.ThreadPoolExecutor(1) as pool:  # an event loop of its own, also where this thread runs one (Jupyter)
        pool.submit(asyncio.run, probe()).result()


LOCAL_CLUSTER_MAX = 128
"""The most workers of the ``LocalCluster`` started without ``--dask-scheduler`` (190 timed out at start)."""


class DaskExecutor(Executor):
    """Runs requests as Dask tasks, on a ``LocalCluster`` or on the scheduler at ``scheduler``.

    Args:
        workers: the ``LocalCluster``'s workers, one run at a time each (ignored with ``scheduler``).
        scheduler: a running scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
        timeout: seconds to wait for the scheduler to answer.
        grace: seconds a cancelled run gets before it is killed.
        index: the runs write the store's SQLite index; False: their folders only, and the
            submitting process indexes them (workers on other hosts: SQLite over NFS is unsafe).
            Default: True for a LocalCluster, False with ``scheduler``.

    Raises:
        UsageError: the scheduler does not answer (nothing was run). :func:`get_executor` refuses an
            address that is none (:func:`scheduler_problem`) before this is made.

    Example:
        >>> DaskExecutor.name  # get_executor("dask", workers=2) starts a LocalCluster
        'dask'
    """

    name = "dask"

    def __init__(self, workers: int = 1, scheduler: str | None = None, timeout: float = 10.0,
                 grace: float = 10.0, index: bool | None = None) -> None:  # fmt: skip
        super().__init__(workers=workers)
        import logging

        from distributed import Client, Event, LocalCluster

        self._cluster: Any = None
        if scheduler is not None:  # its address checked where settings enter (get_executor: scheduler_problem)
            try:
                _shake_hands(scheduler, timeout)
                self._client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise UsageError(f"Dask scheduler {scheduler} does not answer ({type(exc).__name__}: {exc}). "
                                 "Check the address (tcp://host:port) and that 'dask scheduler' runs there, "
                                 "or leave out --dask-scheduler for a local cluster.") from None  # fmt: skip
            self.workers = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()) or 1
        else:
            if workers > LOCAL_CLUSTER_MAX:
                raise UsageError(
                    f"-j {workers} is more workers than a local Dask cluster can start here (at most "
                    f"{LOCAL_CLUSTER_MAX}: it runs one worker per run in this process, and from about 190 its "
                    f"connections time out). Use -x local -j {workers}, or a Dask cluster with --dask-scheduler."
                )
            # one in-process worker per run at a time (its HTTP server on a free port: 8787 taken by another
            # sweep's cluster printed a warning)
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                         dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                         silence_logs=logging.ERROR)  # fmt: skip
            self._client = Client(self._cluster)
        self._event_name = f"runlab-cancel-{uuid.uuid4().hex}"
        self._event = Event(self._event_name, client=self._client)
        self._env = environment()
        index = scheduler is None if index is None else index
        self.index_writes = index
        if not index:
            self._env["RUNLAB_INDEX_WRITES"] = "0"
        self._cwd = os.getcwd()
        self._grace = grace
        self._dask_futures: list[Any] = []

    def _start(self, request: RunRequest) -> cf.Future[RunResult]:
        from distributed import KilledWorker, Variable

        future: cf.Future[RunResult] = cf.Future()
        self._started(1)  # counted as running until it ends (Dask queues the rest on its workers)
        token = f"runlab-run-{uuid.uuid4().hex}"
        Variable(token, client=self._client).set("")  # no run yet (set, so reading it never waits)
        task = self._client.submit(_task, request.to_json(), self._cwd, self._env, self._event_name, self._grace,
                                   token, pure=False, retries=0)  # fmt: skip
        self._dask_futures.append(task)

        def done(task: Any) -> None:
            self._started(-1)
            announced = Variable(token, client=self._client)
            try:
                result = RunResult.from_json(task.result())
            except KilledWorker as exc:  # Dask gave up after losing workers: the run (if any) crashed
                run = _announced_run(announced)
                result = crashed(run, f"{LOST}; Dask gave up on the task ({exc})")
            except BaseException as exc:  # the task was cancelled, or the cluster went away
                cancelled = self.cancelled and task.status == "cancelled"
                status = RunStatus.CANCELLED if cancelled else RunStatus.FAILED
                result = RunResult(None, status, None, error=f"the Dask task ended: {type(exc).__name__}: {exc}")
            try:
                announced.delete()
            except Exception:  # the scheduler is gone: nothing to clean up there
                pass
            future.set_result(result)

        task.add_done_callback(done)
        return future

    @property
    def running(self) -> int:
        return min(self._running, self.workers)

    def _cancel_running(self) -> None:
        self._event.set()

    def close(self) -> None:
        for future in self._futures:
            future.result()  # every task ended (cancelled ones after their grace period)
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
