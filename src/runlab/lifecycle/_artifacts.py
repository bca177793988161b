"""Artifact paths that cannot leave the run's ``artifacts/`` folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from ..errors import ArtifactPathError, UsageError

__all__ = ["copy_artifact", "safe_artifact_path"]


def safe_artifact_path(base: Path, name: str | os.PathLike[str]) -> Path:
    """Resolve ``name`` under ``base`` and refuse anything that would lead outside it.

    Refused: empty names, absolute paths, ``..`` segments, and names that pass through a
    symbolic link pointing outside ``base``.

    Example:
        >>> import tempfile, pathlib
        >>> base = pathlib.Path(tempfile.mkdtemp())
        >>> safe_artifact_path(base, "plots/loss.png").relative_to(base).as_posix()
        'plots/loss.png'
    """
    text = os.fspath(name)
    if not isinstance(text, str) or not text.strip():
        raise ArtifactPathError(f"Invalid artifact name {name!r}: give a relative path such as 'plots/loss.png'.")
    pure = PurePosixPath(text.replace("\\", "/"))
    if pure.is_absolute() or text.startswith(("/", "\\")) or (len(text) > 1 and text[1] == ":"):
        raise ArtifactPathError(
            f"Invalid artifact name {text!r}: absolute paths are not allowed; give a path relative to the "
            "run's artifacts folder, such as 'model.pt'."
        )
    if ".." in pure.parts:
        raise ArtifactPathError(
            f"Invalid artifact name {text!r}: '..' would leave the run's artifacts folder; use a plain relative path."
        )
    root = base.resolve()
    target = root.joinpath(*pure.parts)
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise ArtifactPathError(
            f"Invalid artifact name {text!r}: it leads outside the run's artifacts folder through a link "
            f"(to {resolved}); choose another name."
        )
    if resolved == root:
        raise ArtifactPathError(f"Invalid artifact name {text!r}: it names the artifacts folder itself.")
    return target


def copy_artifact(source: Path, target: Path) -> Path:
    """Copy a file or a folder (links followed, so only content is copied) to ``target``."""
    if not source.exists():
        raise UsageError(f"Cannot log artifact {str(source)!r}: no such file or folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=False, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    return target
