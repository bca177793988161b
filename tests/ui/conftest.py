"""Fixtures for the UI tests: a populated store, a real ``runlab ui`` server, a browser."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import runlab


def tiny_png(width: int = 120, height: int = 80) -> bytes:
    """A valid PNG image (a colour gradient), built without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    def row(y: int) -> bytes:
        return b"\x00" + b"".join(bytes((255 * x // width, 255 * y // height, 160)) for x in range(width))

    raw = b"".join(row(y) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def populate(root: Path) -> dict[str, str]:
    """Runs for the UI tests: a grid over lr x seed with curves, artifacts, data; one failed run."""
    ids: dict[str, str] = {}
    for lr in (0.1, 0.01):
        for seed in (1, 2):
            name = f"lr{lr}-s{seed}"
            with runlab.start_run(name=name, params={"lr": lr, "seed": seed, "opt": {"kind": "adam"}},
                                  tags=["grid"], root=root, capture=False) as run:  # fmt: skip
                for step in range(200):
                    run.log_metric("loss", 1.0 / (1 + lr * step * seed), step=step)
                    run.log_metric("acc", 1.0 - 1.0 / (2 + lr * step), step=step)
                run.log_metric("sys/cpu_percent", 12.5, step=0)
                run.data["best/epoch"] = 7
                run.save_bytes("plots/curve.png", tiny_png())
                run.save_text("notes.txt", f"notes of {name}\n")
                run.save_json("summary.json", {"lr": lr, "seed": seed})
            ids[name] = run.id
    with pytest.raises(RuntimeError), runlab.start_run(name="broken", root=root, capture=False) as run:
        raise RuntimeError("diverged")
    ids["broken"] = run.id
    return ids


SWEPT = """\
import runlab
LR = 0.1
LAYERS = 1
experiment = runlab.Experiment(namespace="swept", glob=globals())


@experiment
def main(e):
    for step in range(30):
        e.track("loss", 1.0 / (1 + e.LR * step * e.LAYERS))
    e.track("acc", 1 - 1.0 / (2 + e.LR * 30 * e.LAYERS))
    return e.LR


experiment.run_if_main()
"""

QUAD = """\
import runlab
XV = 0.0
YV = 1
OPT = "a"
experiment = runlab.Experiment(namespace="quad", glob=globals())


@experiment
def main(e):
    value = (e.XV - 2) ** 2 + e.YV + (0.5 if e.OPT == "b" else 0)
    e.track("score", value)
    return value


experiment.run_if_main()
"""


def make_sweep_and_study(root: Path, folder: Path, trials: int = 12) -> tuple[str, str]:
    """A real sweep (``runlab run --sweep``, 3 x 2 configs) and a real Optuna study (``runlab optimize``)."""
    from click.testing import CliRunner

    from runlab.cli import cli
    from runlab.sweep import list_sweeps

    (folder / "swept.py").write_text(SWEPT)
    (folder / "quad.py").write_text(QUAD)
    runner = CliRunner()
    result = runner.invoke(cli, ["--root", str(root), "run", str(folder / "swept.py"), "--sweep", "LR=0.1,0.01,0.001",
                                 "--sweep", "LAYERS=1,2", "-x", "inline"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--root", str(root), "optimize", str(folder / "quad.py"), "-n", str(trials),
                                 "--search", "XV=float(-5,5)", "--search", "YV=int(0,3)", "--search", "OPT=choice(a,b)",
                                 "--study", "quad", "--seed", "3", "-x", "inline"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    (sweep,) = list_sweeps(root)
    return sweep.id, "quad"


class UIServer:
    """``runlab ui`` as a real subprocess on 127.0.0.1 and a free port."""

    def __init__(self, root: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runlab", "--root", str(root), "ui", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if " at http://" not in line:
            self.stop()
            raise AssertionError(f"runlab ui did not start: {line!r} {''.join(self.stderr)}")
        self.url = line.split(" at ", 1)[1].split(" ", 1)[0]
        self.base = self.url.split("?", 1)[0].rstrip("/")

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def raw_get(self, path: str) -> tuple[int, str]:
        """``GET path`` sent byte for byte (no client-side URL normalisation): the status and the body."""
        host, port = self.base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def stop(self, how: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(how)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def ui_store(root: Path) -> dict[str, str]:
    return populate(root)


@pytest.fixture
def ui_server(root: Path, ui_store: dict[str, str]) -> Iterator[UIServer]:
    server = UIServer(root)
    yield server
    server.stop()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (make test installs Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
