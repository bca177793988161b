"""docs/store.md "Guarantees: crash loss, values, names and secrets" names only tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_test_named_in_the_guarantees_section_exists() -> None:
    text = (REPO / "docs" / "store.md").read_text(encoding="utf-8")
    section = text.split("## Guarantees: crash loss, values, names and secrets", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\b(test_[a-z0-9_]+)\b(?!\.py)", section))
    assert len(named) >= 15, named
    defined = {
        name
        for path in (REPO / "tests").rglob("test_*.py")
        for name in re.findall(r"^def (test_[a-z0-9_]+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert named <= defined, f"named in docs/store.md but not defined: {sorted(named - defined)}"
    files = set(re.findall(r"`((?:lifecycle|params|store)/test_[a-z_]+\.py)", section))
    assert files and all((REPO / "tests" / f).is_file() for f in files), files
