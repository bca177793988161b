"""Lower layers never import higher ones: the run core and the hook registry do not import plugins."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "runlab"
HIGHER = {"plugins", "experiment", "cli", "ui", "sweep", "workflow", "branch", "executors"}


def _imported_layers(source: str, package: tuple[str, ...]) -> set[str]:
    """The runlab subpackages a module of ``package`` imports anywhere (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = [*base, *(node.module or "").split(".")] if node.module else base
                names = [p for p in parts if p] or [alias.name for alias in node.names]
            else:
                parts = (node.module or "").split(".")
                names = parts[1:] if parts[0] == "runlab" else []
            if names:
                found.add(names[0])
            elif node.level:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "runlab" and len(parts) > 1:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", ["lifecycle", "hooks", "store", "params"])
def test_a_low_layer_imports_no_higher_layer(layer: str) -> None:
    offending = {
        str(path.relative_to(SRC)): sorted(
            _imported_layers(path.read_text(encoding="utf-8"), path.relative_to(SRC).parts[:-1]) & HIGHER
        )
        for path in sorted((SRC / layer).rglob("*.py"))
    }
    assert {k: v for k, v in offending.items() if v} == {}


@pytest.mark.parametrize(
    ("source", "layers"),
    [
        ("def f():\n    from ..plugins import get_manager\n", {"plugins"}),
        ("from .. import experiment\n", {"experiment"}),
        ("import runlab.cli._main\n", {"cli"}),
        ("from runlab.store import Store\nfrom ._run import Run\n", {"store", "lifecycle"}),
    ],
)
def test_the_check_sees_every_form_of_import(source: str, layers: set[str]) -> None:
    assert _imported_layers(source, ("lifecycle",)) == layers
