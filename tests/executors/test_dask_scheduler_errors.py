"""Dask: a scheduler address that cannot work fails at once, exit 2, naming the value, where it is set and
the fix, and nothing runs. A refused port took the whole connection timeout (10 s: Dask tries a refused
connection again until then), so did a port above 65535; ``scheduler = ""`` quietly started a local cluster.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli._main import cli
from runlab.store import Store

pytest.importorskip("distributed")  # imported here, so the timings below are the executor's own


def refused_port() -> int:
    """A port nothing listens on (bound for a moment, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: a connection timeout far above the bound the test checks: the old code waited all of it for a refused port
TIMEOUT = "[tool.runlab.executors.dask]\ntimeout = 60.0\n"
SETTINGS = TIMEOUT + "scheduler = {value}\n"

CASES = {  # name: (--dask-scheduler, pyproject.toml's scheduler, what the one-line error says)
    "refused": ("tcp://127.0.0.1:{port}", None, ["Dask scheduler tcp://127.0.0.1:{port} does not answer",
                                                 "nothing listens on port {port} of 127.0.0.1",
                                                 "leave out --dask-scheduler"]),
    "port out of range": ("tcp://127.0.0.1:70000", None, ["Invalid Dask scheduler address 'tcp://127.0.0.1:70000'",
                                                          "port 70000 is out of range 1-65535",
                                                          "give --dask-scheduler tcp://host:port"]),
    "empty option": ("", None, ["Invalid Dask scheduler address '': it is empty", "--dask-scheduler"]),
    "empty option, no -x": ("", None, ["Invalid Dask scheduler address '': it is empty", "--dask-scheduler"]),
    "empty setting": (None, '""', ["Invalid Dask scheduler address '' (scheduler in [tool.runlab.executors.dask] "
                                   "of {pyproject})", "it is empty", "remove the line for a local cluster"]),
    "port 0 setting": (None, '"tcp://127.0.0.1:0"', ["'tcp://127.0.0.1:0' (scheduler in [tool.runlab.executors.dask]",
                                                      "port 0 is out of range 1-65535",
                                                      'write scheduler = "tcp://host:port" there']),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_scheduler_address_that_cannot_work_fails_fast_with_exit_2(case: str, tmp_path: Path, root: Path) -> None:
    option, setting, expected = CASES[case]
    port = refused_port()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(SETTINGS.format(value=setting) if setting is not None else TIMEOUT)
    script = tmp_path / "exp.py"
    script.write_text("X = 0\n\ndef main():\n    return X\n")
    args = ["--root", str(root), "run", str(script), "--sweep", "X=1,2"]
    if not case.endswith("no -x"):  # the address alone picks the dask executor
        args += ["--executor", "dask"]
    if option is not None:
        args += ["--dask-scheduler", option.format(port=port)]
    started = time.monotonic()
    result = CliRunner().invoke(cli, args)
    took = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    for text in expected:
        assert text.format(port=port, pyproject=pyproject) in result.output, result.output
    assert took < 30, f"took {took:.1f} s"  # the connection timeout is 60 s here: nothing waited for it
    assert not root.exists() or not Store(root).runs()
