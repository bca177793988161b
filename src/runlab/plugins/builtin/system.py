"""``system``: CPU, memory, disk, network and NVIDIA GPU metrics of a run, sampled every N seconds.

Metrics (all under ``sys/``, one point per sample, steps 0, 1, 2, ...):

==============================  ==========================================================
``sys/cpu_percent``             whole machine, % of all CPUs busy since the last sample
``sys/proc_cpu_percent``        this process (% of one CPU; > 100 with several threads)
``sys/proc_memory_mb``          this process's resident memory (RSS), MB
``sys/memory_used_mb``          the machine's used memory, MB
``sys/memory_percent``          the machine's used memory, % of total
``sys/disk_read_mb``            MB read from disks since the run started (whole machine)
``sys/disk_write_mb``           MB written to disks since the run started
``sys/net_recv_mb``             MB received over the network since the run started
``sys/net_sent_mb``             MB sent since the run started
``sys/gpuN/utilization``        GPU N: % of time a kernel ran
``sys/gpuN/memory_used_mb``     GPU N: memory in use, MB (``memory_percent``: % of total)
``sys/gpuN/temperature_c``      GPU N: temperature, degrees Celsius (``power_w``: watts)
==============================  ==========================================================

Counters the machine does not expose (disk I/O in some containers) are left out; GPU
metrics need ``nvidia-ml-py`` and an NVIDIA driver, and are silently absent otherwise.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..._version import __version__
from ...errors import UsageError
from ...lifecycle._gpu import gpu_readings
from .._plugin import Plugin, hook

__all__ = ["DEFAULT_INTERVAL", "SystemMetricsPlugin", "SystemSampler"]

DEFAULT_INTERVAL = 10.0
_MB = 2**20
_FINAL_MIN_GAP = 1.0  # a final sample when the run ends, if the last one is at least this old


class SystemSampler:
    """Records system metrics into one run every ``interval`` seconds, in the background.

    The plugin starts one per run started by an experiment style or ``runlab run``; a run
    made with bare :func:`runlab.start_run` can use one directly. Each sampler keeps its
    own counters, so several runs of one process are sampled independently. Sampling stops
    by itself when the run finishes.

    Args:
        run: the running :class:`runlab.Run`.
        interval: seconds between samples (> 0).
        gpu: also sample NVIDIA GPUs (when NVML is available).

    Example:
        >>> import runlab, tempfile
        >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
        ...     with SystemSampler(run, interval=5):
        ...         pass  # the training loop
    """

    def __init__(self, run: Any, interval: float = DEFAULT_INTERVAL, gpu: bool = True) -> None:
        self.run = run
        self.interval = check_interval(interval, "interval")
        self.gpu = gpu
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the counters
        self._busy = threading.Lock()  # one tick or final sample at a time
        self._psutil: Any = None
        self._process: Any = None
        self._start_io: dict[str, float] = {}
        self._last_cpu: tuple[float, float] | None = None  # (busy, total) of the machine
        self._last_proc: tuple[float, float] | None = None  # (cpu seconds, wall time) of the process
        self._last_sample = 0.0
        self._started = 0.0
        self._scheduled = False

    def start(self) -> SystemSampler:
        """Start sampling in the background (the first sample comes after ``interval`` s)."""
        self._started = time.monotonic()
        begun = getattr(self.run, "_started_at", None)  # the run's start: a sampler joining late catches up
        first = (begun if isinstance(begun, float) else self._started) + min(_FINAL_MIN_GAP, self.interval)
        self._schedule(max(first - self._started, 0.0))
        return self

    def _schedule(self, delay: float) -> None:
        """The next tick, on the run's background thread (none once the run ended)."""
        later = getattr(self.run, "_call_later", None)
        self._scheduled = callable(later) and bool(later(delay, self._due))

    def _due(self) -> None:
        try:
            keep = self._tick()
        except Exception:  # a broken sampler stops; the run goes on
            keep = False
        if keep:
            self._schedule(self.interval)
        else:
            self._scheduled = False

    @property
    def active(self) -> bool:
        """Whether samples are still scheduled (False once stopped or once the run finished)."""
        return self._scheduled and not self._stop.is_set() and getattr(self.run, "status", None) == "running"

    def __enter__(self) -> SystemSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, final: bool = True) -> None:
        """Stop sampling; with ``final``, take one last sample if the last is at least 1 s old.

        A sample being taken now is waited for; a run shorter than a second never waits
        for psutil's import.
        """
        self._stop.set()
        if not final or time.monotonic() - self._started < _FINAL_MIN_GAP:
            return
        with self._busy:  # a tick running on the run's background thread ends first
            if self._psutil is not None and time.monotonic() - self._last_sample >= _FINAL_MIN_GAP:
                self._record()

    def _tick(self) -> bool:
        """When due: prime on the first call, else sample; False to stop."""
        with self._busy:
            if self._stop.is_set():
                return False
            if self._psutil is None:
                try:
                    self._prime()
                except Exception:  # psutil unusable here: record nothing
                    return False
                return True
            return self._record()

    def _prime(self) -> None:
        import psutil

        process = psutil.Process()
        with self._lock:
            self._process = process
            self._start_io = self._io_counters(psutil)
            self._last_cpu = _busy_total(psutil.cpu_times())
            self._last_proc = (_proc_seconds(process), time.monotonic())
            self._last_sample = time.monotonic()
            self._psutil = psutil

    def _record(self) -> bool:
        """Take a sample and log it; False when the run no longer accepts metrics."""
        try:
            values = self.sample()
        except Exception:  # a counter failed this once: try again next time
            return True
        if not values:
            return True
        try:
            self.run.log_metrics(values)
        except Exception:  # the run finished meanwhile
            return False
        return True

    @staticmethod
    def _io_counters(psutil: Any) -> dict[str, float]:
        counters: dict[str, float] = {}
        try:
            disk = psutil.disk_io_counters()
        except Exception:
            disk = None
        if disk is not None:
            counters["disk_read_mb"] = disk.read_bytes / _MB
            counters["disk_write_mb"] = disk.write_bytes / _MB
        try:
            net = psutil.net_io_counters()
        except Exception:
            net = None
        if net is not None:
            counters["net_recv_mb"] = net.bytes_recv / _MB
            counters["net_sent_mb"] = net.bytes_sent / _MB
        return counters

    def sample(self) -> dict[str, float]:
        """One reading as ``{"sys/NAME": value}`` (without logging it); {} before the sampler started."""
        with self._lock:
            psutil, process = self._psutil, self._process
            if psutil is None:
                return {}
            now = time.monotonic()
            out: dict[str, float] = {}
            busy, total = _busy_total(psutil.cpu_times())
            if self._last_cpu is not None and total > self._last_cpu[1]:
                share = (busy - self._last_cpu[0]) / (total - self._last_cpu[1])
                out["sys/cpu_percent"] = round(min(max(share, 0.0), 1.0) * 100.0, 2)
            self._last_cpu = (busy, total)
            seconds = _proc_seconds(process)
            if self._last_proc is not None and now > self._last_proc[1]:
                out["sys/proc_cpu_percent"] = round(
                    max(seconds - self._last_proc[0], 0.0) / (now - self._last_proc[1]) * 100.0, 2
                )
            self._last_proc = (seconds, now)
            out["sys/proc_memory_mb"] = round(process.memory_info().rss / _MB, 1)
            memory = psutil.virtual_memory()
            out["sys/memory_used_mb"] = round((memory.total - memory.available) / _MB, 1)
            out["sys/memory_percent"] = round(float(memory.percent), 2)
            for key, value in self._io_counters(psutil).items():
                if key in self._start_io:
                    out[f"sys/{key}"] = round(max(value - self._start_io[key], 0.0), 3)
            if self.gpu:
                for index, readings in gpu_readings():
                    for key, value in readings.items():
                        out[f"sys/gpu{index}/{key}"] = value
            self._last_sample = now
            return out


def _busy_total(times: Any) -> tuple[float, float]:
    """Busy and total CPU seconds of the machine (idle and iowait count as not busy)."""
    total = float(sum(times))
    idle = float(getattr(times, "idle", 0.0)) + float(getattr(times, "iowait", 0.0))
    return total - idle, total


def _proc_seconds(process: Any) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def check_interval(value: Any, name: str) -> float:
    """``value`` as a number of seconds > 0, or a :class:`~runlab.UsageError` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise UsageError(
            f"Invalid value for {name!r} of the system plugin: {value!r} is not a number of seconds > 0. "
            "Set for example interval = 10 in [tool.runlab.plugins.system]."
        )
    return float(value)


class SystemMetricsPlugin(Plugin):
    """Sample CPU, memory, disk, network and GPU metrics into each run (``sys/...`` metrics).

    On by default for runs started by an experiment style (``@runlab.experiment``,
    ``with runlab.run()``, a script) and by ``runlab run``, sweeps and workflows included;
    bare :func:`runlab.start_run` fires no experiment hooks and records none (wrap its block
    in a :class:`SystemSampler` to get them). The first sample comes ``interval`` seconds after
    the run starts and a last one when its code ends, so runs shorter than a second record
    none. Switch it off with ``disabled = ["system"]`` in ``[tool.runlab.plugins]``.

    Settings ([tool.runlab.plugins.system]):
        interval: seconds between samples (default 10).
        gpu: sample NVIDIA GPUs (default true).
    """

    name = "system"
    version = __version__
    author = "runlab developers"
    tags = ("metrics", "builtin")
    dependencies = ("psutil", "nvidia-ml-py")
    requires = ("psutil",)
    install_hint = "pip install 'runlab[system]'"

    def initialize(self, context: Any) -> None:
        self.interval = check_interval(self.settings.get("interval", DEFAULT_INTERVAL), "interval")
        gpu = self.settings.get("gpu", True)
        if not isinstance(gpu, bool):
            raise UsageError(
                f"Invalid value for 'gpu' of the system plugin: {gpu!r} is not true or false. "
                "Set for example gpu = false in [tool.runlab.plugins.system]."
            )
        self.gpu = gpu
        self._samplers: dict[str, SystemSampler] = {}
        self._lock = threading.Lock()

    @hook("before_run", priority=50)
    def start_sampling(self, run: Any = None) -> None:
        """Start a sampler for ``run`` (a running :class:`runlab.Run`)."""
        if run is None or not callable(getattr(run, "log_metrics", None)) or getattr(run, "status", None) != "running":
            return
        with self._lock:
            if run.id in self._samplers:
                return
            self._samplers[run.id] = SystemSampler(run, self.interval, self.gpu).start()
        run.record_plugin(self.name, save=False, interval=self.interval)

    def _stop(self, run: Any, final: bool) -> None:
        with self._lock:
            sampler = self._samplers.pop(getattr(run, "id", None) or "", None)
        if sampler is not None:
            sampler.stop(final=final)

    @hook("after_run", priority=50)
    def stop_after_run(self, run: Any = None) -> None:
        """The code returned: a last sample, then stop."""
        self._stop(run, final=True)

    @hook("before_experiment_error", priority=50)
    def stop_on_error(self, run: Any = None) -> None:
        """The code raised: a last sample, then stop."""
        self._stop(run, final=True)

    @hook("run_state_changed")
    def stop_when_finished(self, run: Any = None, new: str | None = None) -> None:
        """The run ended some other way (``runlab.fail()`` in the code): stop."""
        if new in ("completed", "failed", "cancelled"):
            self._stop(run, final=False)

    def cleanup(self) -> None:
        with self._lock:
            samplers, self._samplers = list(self._samplers.values()), {}
        for sampler in samplers:
            sampler.stop(final=False)
