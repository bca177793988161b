"""The documentation's relative links lead to files (and headings) inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", REPO / "benchmarks" / "README.md", *(REPO / "docs").glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _slugs(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    slugs = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE):
        plain = re.sub(r"[`*_]", "", heading).strip().lower()
        slugs.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", plain)))
    return slugs


def _links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve_inside_the_repository(doc: Path) -> None:
    dead = []
    for target in _links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        if not path.is_relative_to(REPO):
            dead.append(f"{target} (outside the repository)")
        elif not path.exists():
            dead.append(f"{target} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in _slugs(path):
            dead.append(f"{target} (no heading #{anchor})")
    assert not dead, f"{doc.relative_to(REPO)}: dead links: {dead}"


def test_the_checker_finds_dead_links(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("# Title\n[a](missing.md) [b](#title) [c](https://example.org)\n```\n[d](ignored.md)\n```\n")
    assert _links(doc) == ["missing.md", "#title", "https://example.org"]
    assert _slugs(doc) == {"title"}


def test_the_docs_have_an_architecture_page() -> None:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in ("store/", "lifecycle/", "plugins/", "experiment/", "cli/"):
        assert package in text
