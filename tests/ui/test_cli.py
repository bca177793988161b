"""``runlab ui`` as a real process: start-up line, port in use, unbindable address, token, no extra."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import UIServer

RUNLAB = [sys.executable, "-m", "runlab"]


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNLAB, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_serves_the_store_on_localhost_and_stops_on_ctrl_c(root: Path, ui_server: UIServer) -> None:
    assert ui_server.url.startswith("http://127.0.0.1:") and "token" not in ui_server.url
    with urllib.request.urlopen(ui_server.base + "/api/runs", timeout=60) as resp:
        assert b'"total":5' in resp.read()
    assert ui_server.stop() == 0
    assert not any("Traceback" in line for line in ui_server.stderr)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_it_cleanly(root: Path, ui_store: dict[str, str], how: int) -> None:
    server = UIServer(root)
    assert server.stop(how) == 0
    deadline = time.monotonic() + 10
    while "runlab UI stopped.\n" not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)  # the thread reading stderr catches up
    assert "runlab UI stopped.\n" in server.stderr and not any("Traceback" in line for line in server.stderr)


def test_port_in_use_exits_2_with_one_line(root: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _run("--root", str(root), "ui", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: Port {port} on 127.0.0.1 is already in use: pass --port with a free port, "
        "or --port 0 for any free one."
    ]


@pytest.mark.parametrize(("host", "port", "expected"), [
    ("203.0.113.7", "0", "Cannot bind to 203.0.113.7:0"),  # TEST-NET-3: no interface here has it
    ("no-such-host.invalid", "0", "Cannot bind to 'no-such-host.invalid'"),
    ("127.0.0.1", "70000", "Invalid port 70000"),
])  # fmt: skip
def test_unbindable_address_exits_2_with_one_line(root: Path, host: str, port: str, expected: str) -> None:
    result = _run("--root", str(root), "ui", "--host", host, "--port", port)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_other_address_warns_and_requires_the_printed_token(root: Path, ui_store: dict[str, str]) -> None:
    server = UIServer(root, "--host", "0.0.0.0")
    try:
        assert "?token=" in server.url
        token = server.url.split("?token=", 1)[1]
        port = server.base.rsplit(":", 1)[1]
        local = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(local + "/api/runs", timeout=60)
        assert denied.value.code == 401
        with urllib.request.urlopen(f"{local}/api/runs?token={token}", timeout=60) as resp:
            assert resp.status == 200
        request = urllib.request.Request(local + "/", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            assert resp.status == 200
    finally:
        server.stop()
    assert any("Warning: serving on 0.0.0.0" in line for line in server.stderr)


def test_without_the_ui_extra_it_says_which_extra_to_install(root: Path) -> None:
    code = "import sys; sys.modules['fastapi'] = None; from runlab.cli import main; main(['ui'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: 'runlab ui' needs the 'ui' extra (fastapi missing): pip install 'runlab[ui]'."
    )


def test_help_describes_the_command() -> None:
    result = _run("ui", "--help")
    assert result.returncode == 0
    assert "--host" in result.stdout and "token" in result.stdout and "runlab[ui]" in result.stdout


@pytest.mark.parametrize(("host_header", "status"), [
    ("evil.example", 403), ("evil.example:8765", 403), ("", 403),
    ("localhost", 200), ("127.0.0.1:1", 200), ("[::1]:8765", 200),
])  # fmt: skip
def test_a_local_ui_refuses_other_host_names(ui_server: UIServer, host_header: str, status: int) -> None:
    """A page on another site cannot reach the local UI by DNS rebinding: its Host header gives it away."""
    host, port = ui_server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", "/api/runs", headers={"Host": host_header})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == status, body
    if status == 403:
        assert b"runs" not in body and b"Host header" in body
