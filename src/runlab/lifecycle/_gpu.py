"""NVIDIA GPUs through NVML (``nvidia-ml-py``): what a run records about them, and their readings.

NVML is initialised once per process, on first use, and never shut down (NVML counts
its users; a process holding it costs nothing). Where ``nvidia-ml-py`` is not installed,
the NVML library is missing (no driver) or no GPU is present, every function here
returns an empty list: nothing is recorded and nothing is raised. NVML lists every GPU
of the machine, whatever ``CUDA_VISIBLE_DEVICES`` says.

Example:
    >>> gpus = gpu_inventory()  # [] on a machine without an NVIDIA GPU
    >>> all({"index", "name", "memory_bytes", "driver"} <= set(g) for g in gpus)
    True
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

__all__ = ["gpu_inventory", "gpu_readings"]

_lock = threading.Lock()
_nvml_state: list[Any] | None = None  # [the pynvml module] once initialised; [] when NVML is unusable


def _nvidia_driver_present() -> bool:
    """Whether the NVIDIA kernel driver is loaded (Linux): without it NVML has nothing to report."""
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")


def _nvml() -> Any | None:
    """The initialised ``pynvml`` module, or None where NVML cannot be used."""
    global _nvml_state
    with _lock:
        if _nvml_state is None:
            if sys.platform.startswith("linux") and not _nvidia_driver_present():
                _nvml_state = []  # no NVIDIA driver: skip importing pynvml (17 ms) at every run's start
                return None
            try:
                import pynvml

                pynvml.nvmlInit()
                _nvml_state = [pynvml]
            except Exception:  # not installed, no libnvidia-ml, no driver, no GPU
                _nvml_state = []
        return _nvml_state[0] if _nvml_state else None


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _handles(nvml: Any) -> list[tuple[int, Any]]:
    try:
        count = int(nvml.nvmlDeviceGetCount())
    except Exception:
        return []
    handles = []
    for index in range(count):
        try:
            handles.append((index, nvml.nvmlDeviceGetHandleByIndex(index)))
        except Exception:  # a GPU that fell off the bus: leave it out
            continue
    return handles


def gpu_inventory() -> list[dict[str, Any]]:
    """Each NVIDIA GPU's index, model name, total memory (bytes), driver version and UUID.

    Returns an empty list where there is no usable GPU (see the module docstring).
    """
    nvml = _nvml()
    if nvml is None:
        return []
    try:
        driver: str | None = _text(nvml.nvmlSystemGetDriverVersion())
    except Exception:
        driver = None
    out = []
    for index, handle in _handles(nvml):
        try:
            entry: dict[str, Any] = {
                "index": index,
                "name": _text(nvml.nvmlDeviceGetName(handle)),
                "memory_bytes": int(nvml.nvmlDeviceGetMemoryInfo(handle).total),
                "driver": driver,
            }
        except Exception:
            continue
        try:
            entry["uuid"] = _text(nvml.nvmlDeviceGetUUID(handle))
        except Exception:
            entry["uuid"] = None
        out.append(entry)
    return out


def gpu_readings() -> list[tuple[int, dict[str, float]]]:
    """One reading per GPU: ``(index, {name: value})``.

    Names: ``utilization`` (% of time a kernel ran), ``memory_used_mb``, ``memory_percent``,
    ``temperature_c`` and ``power_w``; a value the GPU does not report is left out.
    """
    nvml = _nvml()
    if nvml is None:
        return []
    out = []
    for index, handle in _handles(nvml):
        values: dict[str, float] = {}
        try:
            values["utilization"] = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        except Exception:
            pass
        try:
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            values["memory_used_mb"] = round(memory.used / 2**20, 1)
            if memory.total:
                values["memory_percent"] = round(100.0 * memory.used / memory.total, 2)
        except Exception:
            pass
        try:
            values["temperature_c"] = float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        except Exception:
            pass
        try:
            values["power_w"] = round(nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0, 1)
        except Exception:
            pass
        if values:
            out.append((index, values))
    return out
