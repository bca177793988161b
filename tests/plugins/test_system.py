"""The ``system`` plugin and its sampler against real psutil (and real NVML where a GPU exists)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import runlab
from runlab.lifecycle._gpu import gpu_inventory, gpu_readings
from runlab.plugins import PluginManager, PluginState
from runlab.plugins.builtin.system import SystemSampler

from ..conftest import REPO, run_python

pytest.importorskip("psutil")

_MACHINE = {"sys/cpu_percent", "sys/proc_cpu_percent", "sys/proc_memory_mb", "sys/memory_used_mb",
            "sys/memory_percent"}  # fmt: skip


def _settings(tmp_path: Path, body: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.runlab.plugins.system]\n{body}\n")


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(1000))


def _busy_until_sampled(sampler: SystemSampler, seconds: float) -> None:
    """Busy for ``seconds``, and on until the sampler has taken a sample after its first tick (which
    imports psutil: on a loaded machine its thread may come late), for at most 30 s."""
    _busy(seconds)
    deadline = time.monotonic() + 30
    while sampler._psutil is None and time.monotonic() < deadline:
        _busy(0.05)
    seen = sampler._last_sample
    while sampler._last_sample == seen and time.monotonic() < deadline:
        _busy(0.05)


def test_sampler_records_machine_and_process_metrics_with_real_psutil(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run, SystemSampler(run, interval=0.2):
        _busy(1.2)
    record = runlab.load(run.id, root=root)
    names = set(record.summaries)
    assert names >= _MACHINE
    assert {n for n in names if n.startswith("sys/net_")} <= {"sys/net_recv_mb", "sys/net_sent_mb"}
    cpu = record.metrics("sys/cpu_percent")
    assert len(cpu) >= 2 and all(0 <= v <= 100 for v in cpu.values)
    assert cpu.steps == list(range(len(cpu)))
    proc = record.metrics("sys/proc_cpu_percent").values
    assert max(proc) > 0  # the busy loop shows up in this process's CPU share (small on a loaded machine)
    rss = record.metrics("sys/proc_memory_mb").values
    assert all(5 < v < 100_000 for v in rss)
    assert 0 < record.summaries["sys/memory_percent"].last <= 100


def test_sampler_reports_io_since_the_run_started(root: Path, tmp_path: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        sampler = SystemSampler(run, interval=60).start()
        deadline = time.monotonic() + 30
        while not sampler.sample() and time.monotonic() < deadline:  # primed in the background
            time.sleep(0.05)
        values = sampler.sample()
        sampler.stop(final=False)
    assert values and all(v >= 0 for k, v in values.items() if k.startswith(("sys/disk_", "sys/net_")))
    assert not runlab.load(run.id, root=root).summaries  # stop(final=False) logged nothing


def test_sampler_stops_by_itself_when_the_run_finishes(root: Path) -> None:
    run = runlab.start_run(root=root, capture=False)
    sampler = SystemSampler(run, interval=0.1).start()
    time.sleep(0.5)
    assert sampler.active
    run.complete()
    deadline = time.monotonic() + 30
    while sampler.active and time.monotonic() < deadline:  # its next tick finds the run finished
        time.sleep(0.05)
    assert not sampler.active
    sampler.stop()  # after the run finished: nothing raised


@pytest.mark.parametrize("value", [0, -1, "10", True, float("inf"), float("nan")])
def test_sampler_refuses_an_interval_that_is_not_a_positive_number(root: Path, value: object) -> None:
    with runlab.start_run(root=root, capture=False) as run, pytest.raises(runlab.UsageError, match="interval"):
        SystemSampler(run, interval=value)  # type: ignore[arg-type]


def test_plugin_samples_runs_of_experiment_styles(tmp_path: Path, root: Path) -> None:
    _settings(tmp_path, "interval = 0.2")
    with runlab.run(root=root) as run:  # the plugin joins LATE_DELAY (0.5 s) into the run
        _busy(1.5)
    record = runlab.load(run.id, root=root)
    assert set(record.summaries) >= _MACHINE
    assert record.metadata["plugins"]["system"]["interval"] == 0.2


def test_plugin_leaves_bare_start_run_alone_even_when_plugins_are_active(tmp_path: Path, root: Path) -> None:
    _settings(tmp_path, "interval = 0.1")
    runlab.plugins.get_manager()  # another part of the program activated plugins
    with runlab.start_run(root=root, capture=False) as run:
        _busy(0.6)
    assert not runlab.load(run.id, root=root).summaries


def test_plugin_can_be_disabled(tmp_path: Path, root: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.runlab.plugins]\ndisabled = ["system"]\n[tool.runlab.plugins.system]\ninterval = 0.1\n'
    )
    with runlab.run(root=root) as run:
        _busy(0.6)
    assert not any(n.startswith("sys/") for n in runlab.load(run.id, root=root).summaries)


@pytest.mark.parametrize(
    ("body", "message"),
    [("interval = 0", "interval"), ('interval = "fast"', "interval"), ('gpu = "yes"', "gpu")],
)
def test_plugin_with_a_bad_setting_fails_to_load_with_a_clear_notice(tmp_path: Path, body: str, message: str) -> None:
    _settings(tmp_path, body)
    pm = PluginManager(tmp_path)
    record = next(r for r in pm.plugins() if r.name == "system")
    assert record.state is PluginState.FAILED
    assert message in record.notice and "[tool.runlab.plugins.system]" in record.notice


def test_environment_capture_lists_gpus(root: Path) -> None:
    with runlab.start_run(root=root) as run:
        pass
    env = runlab.load(run.id, root=root).metadata["env"]
    assert env["gpus"] == gpu_inventory()
    for gpu in env["gpus"]:
        assert gpu["name"] and gpu["memory_bytes"] > 0 and gpu["driver"]


def test_without_nvml_nothing_is_recorded_and_nothing_raised() -> None:
    # a fresh interpreter where nvidia-ml-py cannot be imported at all
    code = (
        "import sys; sys.modules['pynvml'] = None\n"
        "from runlab.lifecycle._gpu import gpu_inventory, gpu_readings\n"
        "print(gpu_inventory(), gpu_readings())\n"
    )
    assert run_python(code, env={"PYTHONPATH": str(REPO / "src")}).stdout.strip() == "[] []"


def test_gpu_metrics_where_a_gpu_exists(root: Path) -> None:
    if not gpu_inventory():
        pytest.skip("no NVIDIA GPU with a working NVML driver on this machine")
    readings = dict(gpu_readings())
    assert 0 in readings and {"utilization", "memory_used_mb", "temperature_c"} <= set(readings[0])
    with runlab.start_run(root=root, capture=False) as run, SystemSampler(run, interval=0.2) as sampler:
        _busy_until_sampled(sampler, 0.8)
    names = set(runlab.load(run.id, root=root).summaries)
    assert {"sys/gpu0/utilization", "sys/gpu0/memory_used_mb", "sys/gpu0/temperature_c"} <= names


def test_no_gpu_metrics_where_there_is_no_gpu(root: Path) -> None:
    if gpu_inventory():
        pytest.skip("this machine has an NVIDIA GPU")
    with runlab.start_run(root=root, capture=False) as run, SystemSampler(run, interval=0.2) as sampler:
        _busy_until_sampled(sampler, 0.6)
    names = set(runlab.load(run.id, root=root).summaries)
    assert names and not any(n.startswith("sys/gpu") for n in names)


def test_the_system_plugin_makes_plugins_load_for_experiment_styles_only(tmp_path: Path) -> None:
    from runlab._activation import plugins_configured

    assert plugins_configured(tmp_path, experiment=True)  # psutil is installed, system not disabled
    assert not plugins_configured(tmp_path)  # bare start_run: nothing could act
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.plugins]\ndisabled = ["system"]\n')
    assert not plugins_configured(tmp_path, experiment=True)
