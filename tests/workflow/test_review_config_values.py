"""Config files of a workflow (``-c FILE``, a step's ``config:``) are read as ``runlab run SCRIPT -c FILE`` reads them.

Their values are converted to the script's types, a value that does not fit is refused with exit 2
before any run or workflow record exists, and a ``search:`` section (a study's) is refused too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli._main import _register, cli
from runlab.store import Store

_register()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "count.py").write_text("N = 3\nRATE = 0.5\ndef main():\n    return [list(range(N)), RATE]\n")
    (tmp_path / "other.py").write_text("N = 1\ndef main():\n    return N\n")
    (tmp_path / "bad.yml").write_text("parameters: {N: abc}\n")
    (tmp_path / "text.yml").write_text("parameters: {N: '2', RATE: '0.25'}\n")
    (tmp_path / "search.yml").write_text("parameters: {N: 2}\nsearch: {RATE: {float: [0.1, 1]}}\n")
    return tmp_path


def _workflows(root: Path) -> list[Path]:
    folder = root / ".runlab" / "workflows"
    return list(folder.iterdir()) if folder.is_dir() else []


def _commands(folder: Path, config: str) -> dict[str, list[str]]:
    (folder / "flow.yml").write_text(f"steps:\n  a: {{script: count.py, config: {config}}}\n")
    return {
        "sequential": ["workflow", "sequential", str(folder / "count.py"), "-c", str(folder / config)],
        "parallel": [
            "workflow",
            "parallel",
            *(str(folder / f) for f in ("count.py", "other.py")),
            "-c",
            str(folder / config),
        ],
        "file": ["workflow", "run", str(folder / "flow.yml"), "-x", "inline"],
    }


@pytest.mark.parametrize("command", ["sequential", "parallel", "file"])
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("bad.yml", "Invalid value for 'N': 'abc' is not a valid int"),
        ("search.yml", "has a search: section (a search space for a study), which a workflow would ignore"),
    ],
)
def test_a_bad_config_file_exits_2_before_any_run(command: str, config: str, message: str, folder: Path,
                                                  root: Path) -> None:  # fmt: skip
    result = CliRunner().invoke(cli, ["--root", str(root), *_commands(folder, config)[command]])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert "count.py" in errors[0] or "step 'a'" in errors[0]  # which script or step it is about
    assert not root.exists() or (Store(root).runs(), _workflows(root)) == ([], [])


@pytest.mark.parametrize("command", ["sequential", "file"])
def test_config_values_are_typed_like_runlab_run(command: str, folder: Path, root: Path) -> None:
    result = CliRunner().invoke(cli, ["--root", str(root), *_commands(folder, "text.yml")[command]])
    assert result.exit_code == 0, result.output
    (run,) = Store(root).runs()
    assert run.data["result"] == [[0, 1], 0.25]  # N is the int 2, not the text "2"
    assert (run.params["N"], run.params["RATE"]) == (2, 0.25)
