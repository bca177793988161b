"""Artifact paths that cannot leave the run's ``artifacts/`` folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from ..errors import ArtifactPathError, UsageError
from ..store._text import safe_repr

__all__ = ["MAX_NAME", "MAX_PART_BYTES", "artifact_name", "copy_artifact", "safe_artifact_path"]

MAX_PART_BYTES = 255  # one folder or file name, in UTF-8 bytes (NAME_MAX of common file systems)
MAX_NAME = 1024  # the whole relative name, in characters


def _check_characters(text: str) -> None:
    bad = next((c for c in text if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise ArtifactPathError(
            f"Invalid artifact name {text!r}: it contains the control character {bad!r}; use printable characters."
        )
    try:
        encoded = [part.encode("utf-8") for part in text.replace("\\", "/").split("/")]
    except UnicodeEncodeError:
        raise ArtifactPathError(
            f"Invalid artifact name {text!r}: it is not valid Unicode (lone surrogates); use a plain text name."
        ) from None
    if len(text) > MAX_NAME:
        raise ArtifactPathError(
            f"Invalid artifact name {text[:40]!r}... ({len(text)} characters): at most {MAX_NAME} characters "
            "are allowed. Choose a shorter name."
        )
    longest = max(encoded, key=len)
    if len(longest) > MAX_PART_BYTES:
        raise ArtifactPathError(
            f"Invalid artifact name {text[:40]!r}...: the part {longest[:20].decode(errors='replace')!r}... is "
            f"{len(longest)} bytes long; file systems allow at most {MAX_PART_BYTES} per folder or file name. "
            "Choose a shorter name."
        )


def artifact_name(name: str | os.PathLike[str]) -> str:
    """``name`` as text, or :class:`~runlab.ArtifactPathError` when it is neither text nor a path (3, None, bytes).

    Example:
        >>> artifact_name(PurePosixPath("plots/loss.png"))
        'plots/loss.png'
    """
    text = os.fspath(name) if isinstance(name, os.PathLike) else name
    if not isinstance(text, str):
        raise ArtifactPathError(
            f"Invalid artifact name {safe_repr(name)}: an artifact name is a relative path (a str or a path) "
            "inside the run's artifacts folder, such as 'plots/loss.png'."
        )
    return text


def safe_artifact_path(base: Path, name: str | os.PathLike[str]) -> Path:
    """Resolve ``name`` under ``base`` and refuse anything that would lead outside it.

    Refused, with :class:`~runlab.ArtifactPathError`: empty names, control characters
    (NUL, newline ...), text that is not valid Unicode, a part longer than
    ``MAX_PART_BYTES`` bytes or a name longer than ``MAX_NAME`` characters (file systems
    refuse them), absolute paths, ``..`` segments, and names that pass through a symbolic
    link pointing outside ``base``.

    Example:
        >>> import tempfile, pathlib
        >>> base = pathlib.Path(tempfile.mkdtemp())
        >>> safe_artifact_path(base, "plots/loss.png").relative_to(base).as_posix()
        'plots/loss.png'
    """
    text = artifact_name(name)
    if not text.strip():
        raise ArtifactPathError(f"Invalid artifact name {name!r}: give a relative path such as 'plots/loss.png'.")
    _check_characters(text)
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
    """Copy a file or a folder (links followed, so only content is copied) to ``target``.

    A folder that holds ``target`` is refused (it would copy itself until the disk is full),
    and links inside it that lead back to a folder being copied, or to one holding
    ``target``, are not followed: their content is copied already, or is the run's own. Links
    to nothing (dangling) are skipped. One :class:`~runlab.store.RunlabWarning` names the links
    left out.
    """
    if not source.exists():
        raise UsageError(f"Cannot log artifact {str(source)!r}: no such file or folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        real_target = os.path.realpath(target)
        if _holds(os.path.realpath(source), real_target):
            raise UsageError(
                f"Cannot log artifact {str(source)!r}: the folder holds the artifact's destination {str(target)!r} "
                "in the run's own folder, so it would copy itself. Log the subfolders or files you need instead."
            )
        skipped: list[str] = []
        dangling: list[str] = []

        def loops(folder: str, names: list[str]) -> list[str]:
            real_folder = os.path.realpath(folder)
            above = {os.path.realpath(source)}  # the folders being copied, from source down to here
            here = str(source)
            for part in Path(os.path.relpath(folder, source)).parts:
                here = os.path.join(here, part)
                above.add(os.path.realpath(here))
            out = []
            for name in names:
                path = os.path.join(folder, name)
                if os.path.islink(path) and not os.path.exists(path):  # dangling: nothing to copy
                    out.append(name)
                    dangling.append(path)
                elif os.path.islink(path) and os.path.isdir(path):
                    real = os.path.realpath(path)
                    if real in above or _holds(real, real_folder) or _holds(real, real_target):
                        out.append(name)
                        skipped.append(path)
            return out

        shutil.copytree(source, target, symlinks=False, dirs_exist_ok=True, ignore=loops)
        reasons = [
            f"{what}: {', '.join(paths[:5])}{' ...' if len(paths) > 5 else ''}"
            for what, paths in (
                ("links not followed, as they lead back into a folder being copied or into the run's own folder",
                 skipped),
                ("links skipped, as what they point to does not exist", dangling),
            )
            if paths
        ]  # fmt: skip
        if reasons:
            import warnings

            from ..store._store import RunlabWarning

            warnings.warn(f"Artifact {str(source)!r}: {'; '.join(reasons)}.", RunlabWarning, stacklevel=3)
    else:
        shutil.copy2(source, target)
    return target


def _holds(folder: str, path: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it (both resolved)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
