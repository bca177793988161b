"""Hostile YAML x every way a config file is read: refused with a clear ConfigError, quickly.

Before the bound, a 350-byte file of anchors nested in anchors ("billion laughs") made
``runlab config validate``/``show`` grow to gigabytes; a medium one (half a million
values) was accepted. A self-referencing alias failed somewhere later with a RecursionError.
"""

from __future__ import annotations

import itertools
import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from runlab.cli import cli
from runlab.cli._main import _register
from runlab.params import ConfigError, load_config, load_spec, read_file
from runlab.params._yaml import MAX_ALIAS_NODES, load_yaml

_register()


def laughs(levels: int, width: int = 9) -> str:
    """Anchors nested ``levels`` deep, each list repeating the previous one ``width`` times."""
    names = [chr(ord("a") + i) for i in range(levels)]
    lines = [f"a: &a [{','.join(['lol'] * width)}]"]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * width)}]")
    lines.append(f"parameters:\n  X: [{','.join([f'*{names[-1]}'] * width)}]")
    return "\n".join(lines) + "\n"


HOSTILE: dict[str, tuple[str, str]] = {
    "billion-laughs-350-bytes": (laughs(9), "expand to more than"),
    "half-a-million-values": (laughs(6), "expand to more than"),
    "wide-fan-out": (
        "base: &b [" + ", ".join(["x"] * 200) + "]\nparameters:\n  X: [" + ", ".join(["*b"] * 60) + "]\n",
        "expand to more than",
    ),
    "recursive-sequence": ("parameters:\n  X: &a [1, *a]\n", "refers to a node that contains it"),
    "recursive-mapping": ("parameters: &p\n  X: 1\n  self: *p\n", "refers to a node that contains it"),
}


def _read_file(path: Path) -> Any:
    return read_file(path)


def _load_config(path: Path) -> Any:
    return load_config(path)


def _load_spec_extended(path: Path) -> Any:
    child = path.with_name("child.yml")
    child.write_text(f"extend: {path.name}\nparameters:\n  Y: 1\n", encoding="utf-8")
    return load_spec(child)


def _cli(command: str) -> Callable[[Path], Any]:
    def call(path: Path) -> Any:
        result = CliRunner().invoke(cli, ["config", command, str(path)])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
        raise ConfigError(result.output)

    return call


CALLS: dict[str, Callable[[Path], Any]] = {
    "read_file": _read_file,
    "load_config": _load_config,
    "extend": _load_spec_extended,
    "config validate": _cli("validate"),
    "config show": _cli("show"),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("case", [c for c in HOSTILE if c != "billion-laughs-350-bytes"])
def test_hostile_yaml_is_refused(tmp_path: Path, call: str, case: str) -> None:
    text, words = HOSTILE[case]
    path = tmp_path / "bad.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        CALLS[call](path)
    assert words in str(caught.value) and "bad.yml" in str(caught.value)


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("command", ["validate", "show"])
def test_billion_laughs_is_refused_by_the_cli_in_a_bounded_process(tmp_path: Path, command: str) -> None:
    """A real process capped at 1 GiB of memory: before the bound it died of MemoryError or ran for minutes."""
    text, words = HOSTILE["billion-laughs-350-bytes"]
    path = tmp_path / "laughs.yml"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size < 400
    result = subprocess.run(
        [sys.executable, "-m", "runlab", "config", command, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert words in result.stderr and "Traceback" not in result.stderr


def test_ordinary_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    sections = "\n".join(f"s{i}:\n  <<: *defaults\n  idx: {i}" for i in range(50))
    text = "defaults: &defaults\n" + "".join(f"  k{j}: {j}\n" for j in range(40)) + sections + "\nparameters:\n  X: 1\n"
    path = tmp_path / "ok.yml"
    path.write_text(text, encoding="utf-8")
    data = read_file(path)
    assert data["s49"]["k39"] == 39 and data["s49"]["idx"] == 49 and data["parameters"] == {"X": 1}


@settings(max_examples=80, deadline=None)
@given(levels=st.integers(1, 6), width=st.integers(1, 12))
def test_expansion_is_refused_exactly_past_the_limit(levels: int, width: int) -> None:
    """Nested anchors: accepted (with the right values) while aliases add at most the limit, else refused."""
    sizes = [1 + width]  # nodes of anchor list k written out
    for _ in range(1, levels):
        sizes.append(1 + width * sizes[-1])
    # root mapping, its keys l0.. and "parameters", the key "X", the parameters mapping, the X list
    frame = 1 + (levels + 1) + 1 + 1 + 1
    distinct = frame + (1 + width) + (levels - 1)
    written = frame + sum(sizes) + width * sizes[-1]
    text = laughs(levels, width)
    if written - distinct > MAX_ALIAS_NODES:
        with pytest.raises(ConfigError, match="expand to more than"):
            load_yaml(text, Path("h.yml"))
    else:
        data = load_yaml(text, Path("h.yml"))
        assert len(data["parameters"]["X"]) == width and data["a"] == ["lol"] * width


@pytest.mark.parametrize(("text", "where"), [
    ("lr: 1\nlr: 2\n", "(lines 1 and 2)"),
    ("parameters: {lr: 1, lr: 2}\n", "(line 1)"),
    ("sweep:\n  lr: [1, 2]\n  bs: [1]\n  lr: [3]\n", "(lines 2 and 4)"),
])  # fmt: skip
def test_a_key_given_twice_in_one_mapping_is_refused(tmp_path: Path, text: str, where: str) -> None:
    """YAML keeps the last of two equal keys without a word: a config's value would be lost."""
    path = tmp_path / "c.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(where)) as caught:
        read_file(path)
    assert "is given twice in one mapping" in str(caught.value) and str(path) in str(caught.value)


def test_merge_keys_may_repeat_and_equal_keys_in_different_mappings_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  <<: *b\n  x: 3\nd: {x: 4}\n")
    assert read_file(path)["d"] == {"x": 4}
