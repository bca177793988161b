"""The built-in plugins against their real libraries."""

from __future__ import annotations

from pathlib import Path

import pytest

import runlab
from runlab.plugins import PluginManager, PluginState


def enable(tmp_path: Path, *names: str) -> None:
    """Enable plugins for the project in tmp_path, as a user does in pyproject.toml."""
    listed = ", ".join(f'"{n}"' for n in names)
    (tmp_path / "pyproject.toml").write_text(f"[tool.runlab.plugins]\nenabled = [{listed}]\n")


def builtin_manager(tmp_path: Path, *names: str) -> PluginManager:
    enable(tmp_path, *names)
    pm = PluginManager(tmp_path)
    for record in pm.plugins():
        if record.name not in names:
            pm._unload(record, "not under test")
    return pm.activate()


def test_plot_track_plots_every_metric_and_a_gif_of_tracked_figures(tmp_path: Path, root: Path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    from PIL import Image

    pm = builtin_manager(tmp_path, "plot_track")
    try:
        with runlab.start_run(root=root, capture=False) as run:
            for step in range(5):
                run.log_metrics({"loss": 1 / (step + 1), "val/acc": step / 5})
                fig = Figure(figsize=(2, 2))
                fig.add_subplot().plot(range(step + 1))
                pm.apply("experiment_track", run=run, name="curve", value=fig, step=step, experiment=None)
    finally:
        pm.close()
    plots = run.path / "artifacts" / "plots"
    assert sorted(p.name for p in plots.iterdir()) == ["curve.gif", "loss.png", "val__acc.png"]
    assert (plots / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(plots / "curve.gif") as gif:
        assert gif.n_frames == 5
    assert runlab.load(run.id, root=root).status == "completed"


def test_plot_track_is_inactive_with_a_notice_when_matplotlib_is_missing(tmp_path: Path) -> None:
    # a folder plugin of the same class but requiring a package that is not installed
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "plot_track.py").write_text(
        "from runlab.plugins.builtin.plot_track import PlotTrackPlugin\n"
        "class Missing(PlotTrackPlugin):\n    requires = ('matplotlib_not_installed_xyz',)\n"
    )
    pm = PluginManager(tmp_path)
    record = next(r for r in pm.plugins() if r.name == "plot_track")
    assert record.state is PluginState.STOPPED
    assert record.notice.startswith("off by default")  # plot_track is opt-in
    enable(tmp_path, "plot_track")
    pm = PluginManager(tmp_path)
    record = next(r for r in pm.plugins() if r.name == "plot_track")
    assert record.state is PluginState.STOPPED
    assert record.notice == "inactive: needs matplotlib_not_installed_xyz (pip install 'runlab[analysis]')"


def test_notify_is_silent_without_a_desktop_session(tmp_path: Path, root: Path) -> None:
    pytest.importorskip("desktop_notifier")
    pm = builtin_manager(tmp_path, "notify")
    try:
        plugin = pm.get("notify").plugin
        assert plugin is not None and pm.get("notify").state is PluginState.RUNNING
        with runlab.start_run(name="quiet", root=root, capture=False) as run:
            pass
        assert plugin.sent == []  # type: ignore[attr-defined]
        title, body = plugin.message(run, "completed")  # type: ignore[attr-defined]
        assert title == "runlab: quiet completed" and f"Run {run.id} (default) completed after" in body
    finally:
        pm.close()


def test_notify_switch(tmp_path: Path, root: Path) -> None:
    pytest.importorskip("desktop_notifier")
    pm = builtin_manager(tmp_path, "notify")
    try:
        params: dict[str, object] = {}
        pm.apply("before_experiment_parameters", parameters=params, experiment=None)
        assert params == {"__NOTIFY__": True}
        plugin = pm.get("notify").plugin
        with runlab.start_run(params={"__NOTIFY__": False}, root=root, capture=False) as run:
            pass
        assert plugin.wanted(run) is False  # type: ignore[union-attr]
    finally:
        pm.close()
