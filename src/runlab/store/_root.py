"""Where the store lives: explicit argument > RUNLAB_ROOT > [tool.runlab] root > ./runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = ["DEFAULT_ROOT", "find_pyproject", "read_toml", "resolve_root"]

DEFAULT_ROOT = "runs"


def find_pyproject(start: Path | None = None) -> Path | None:
    """Return the nearest ``pyproject.toml`` at or above ``start`` (default: the cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_toml(path: Path, text: str, fix: str = "Fix the TOML syntax.") -> dict[str, Any]:
    """Parse TOML text read from ``path`` (tomllib, or tomli on Python 3.10).

    Raises:
        UsageError: the text is not valid TOML; the message ends with ``fix``, the next step.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"Cannot read {path}: {exc}. {fix}") from None


def _root_from_pyproject(pyproject: Path) -> Path | None:
    text = pyproject.read_text(encoding="utf-8")
    if "runlab" not in text:  # cheap check: avoid loading tomllib for unrelated projects
        return None
    data = read_toml(pyproject, text, "Fix the TOML syntax or set RUNLAB_ROOT to choose the store.")
    root = data.get("tool", {}).get("runlab", {}).get("root")
    if root is None:
        return None
    if not isinstance(root, str) or not root:
        raise UsageError(
            f"Invalid value for 'root' in [tool.runlab] of {pyproject}: {root!r} is not a path. "
            'Write a folder path, for example root = "runs".'
        )
    path = Path(os.path.expanduser(root))
    return path if path.is_absolute() else pyproject.parent / path


def resolve_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the store's root folder.

    Order: the ``root`` argument, the ``RUNLAB_ROOT`` environment variable, ``root`` in
    ``[tool.runlab]`` of the nearest ``pyproject.toml`` (relative to that file), and
    finally ``./runs``. The folder need not exist yet.

    Example:
        >>> resolve_root("/tmp/my-store")
        PosixPath('/tmp/my-store')
    """
    if root is not None and str(root) != "":
        return Path(os.path.expanduser(os.fspath(root))).absolute()
    env = os.environ.get("RUNLAB_ROOT")
    if env:
        return Path(os.path.expanduser(env)).absolute()
    pyproject = find_pyproject()
    if pyproject is not None:
        configured = _root_from_pyproject(pyproject)
        if configured is not None:
            return configured.absolute()
    return Path(DEFAULT_ROOT).absolute()
