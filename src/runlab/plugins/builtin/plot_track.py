"""``plot_track``: line plots of every metric, and GIFs of tracked figure series, after a run."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path
from typing import Any

from ..._version import __version__
from .._plugin import Plugin, hook

__all__ = ["PlotTrackPlugin"]


def _file_name(metric: str) -> str:
    """A safe file name for a metric name: ``val/acc`` -> ``val__acc``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", metric.replace("/", "__")).strip("._") or "metric"


class PlotTrackPlugin(Plugin):
    """Plot a run's tracked metrics when it finishes.

    Writes ``artifacts/plots/METRIC.png`` (one line plot per metric, value over step) and,
    for every figure series tracked with the ``experiment_track`` hook (a matplotlib figure
    as ``value``), an animated ``artifacts/plots/NAME.gif``. Uses matplotlib's object API
    (no pyplot, no backend change). Plots are drawn on ``run_finishing``: after the last
    metric point was written and before the run's final record, so they are part of it.

    Off unless enabled: ``[tool.runlab.plugins] enabled = ["plot_track"]``.

    Settings ([tool.runlab.plugins.plot_track]):
        format: "png" (default) or "svg".
        frame_ms: duration of one GIF frame in milliseconds (default 500).
    """

    name = "plot_track"
    version = __version__
    author = "runlab developers"
    tags = ("figures", "builtin")
    dependencies = ("matplotlib",)
    requires = ("matplotlib",)
    install_hint = "pip install 'runlab[analysis]'"
    # opt-in: plotting imports matplotlib (~0.3 s) at the end of every run, too costly a default for sweeps
    enabled_by_default = False

    def initialize(self, context: Any) -> None:
        self._frames: dict[tuple[str, str], list[bytes]] = {}
        self._lock = threading.Lock()

    @hook("experiment_track")
    def track(self, run: Any, name: str, value: Any) -> None:
        """Keep a PNG frame of every tracked figure, per run and series name."""
        if not callable(getattr(value, "savefig", None)) or run is None:
            return
        buffer = io.BytesIO()
        value.savefig(buffer, format="png")
        with self._lock:
            self._frames.setdefault((run.id, name), []).append(buffer.getvalue())

    @hook("run_finishing", priority=-10)
    def plot(self, run: Any) -> list[Path]:
        """While ``run`` finishes: plots of every metric and GIFs of tracked figures."""
        written = self.plot_metrics(run) + self.write_gifs(run)
        return written

    def plot_metrics(self, run: Any) -> list[Path]:
        from matplotlib.figure import Figure

        from ...store import load

        series = load(run.id, root=run.store).metrics()
        fmt = str(self.settings.get("format", "png"))
        out = Path(run.path) / "artifacts" / "plots"
        written = []
        for metric, points in sorted(series.items()):
            if not points.steps:
                continue
            fig = Figure(figsize=(6, 4), layout="constrained")
            ax = fig.add_subplot()
            ax.plot(points.steps, points.values, marker="." if len(points.steps) < 50 else None)
            ax.set_xlabel("step")
            ax.set_ylabel(metric)
            ax.set_title(f"{metric} - run {run.id}")
            ax.grid(alpha=0.3)
            out.mkdir(parents=True, exist_ok=True)
            target = out / f"{_file_name(metric)}.{fmt}"
            fig.savefig(target, format=fmt)
            written.append(target)
        return written

    def write_gifs(self, run: Any) -> list[Path]:
        with self._lock:
            series = {name: frames for (rid, name), frames in self._frames.items() if rid == run.id}
            for name in series:
                self._frames.pop((run.id, name), None)
        if not series:
            return []
        from PIL import Image

        out = Path(run.path) / "artifacts" / "plots"
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frames in sorted(series.items()):
            images = [Image.open(io.BytesIO(frame)).convert("RGB") for frame in frames]
            target = out / f"{_file_name(name)}.gif"
            images[0].save(
                target,
                save_all=True,
                append_images=images[1:],
                duration=int(self.settings.get("frame_ms", 500)),
                loop=0,
            )
            written.append(target)
        return written
