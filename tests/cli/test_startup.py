"""``runlab run`` starts fast: it loads what running needs and nothing else (figures: benchmarks/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runlab.cli._main import _COMMANDS, _register, cli

PROBE = """
import sys
from runlab.cli import main
try:
    main(["run", "trivial.py", "--root", "store"])
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = ["runlab.cli._show", "runlab.cli._list", "runlab.experiment._functional", "asyncio", "importlib.metadata",
         "pydantic", "yaml", "pickle", "rich"]
print(" ".join(name for name in heavy if name in sys.modules))
"""


def test_every_command_is_found_where_the_lazy_map_says() -> None:
    _register()
    assert sorted(_COMMANDS) == sorted(name for name in cli.commands if name in _COMMANDS)
    for name, module in _COMMANDS.items():
        assert cli.commands[name].callback.__module__ == f"runlab.cli.{module}"  # type: ignore[union-attr]


def test_runlab_run_of_a_plain_script_loads_only_what_running_needs(tmp_path: Path) -> None:
    (tmp_path / "trivial.py").write_text("x = 1\n\n\ndef main():\n    return x\n")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "", f"loaded needlessly: {out.stdout.splitlines()[-1]}"
