"""What a run records about where it ran: git state, environment, dependencies and code."""

from __future__ import annotations

import functools
import getpass
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

from ..store._files import write_or_link
from ._gpu import gpu_inventory
from ._secrets import load_rules, redact_argv, redact_environ

__all__ = ["capture_environment", "capture_git", "snapshot_code", "list_distributions"]

_GIT_TIMEOUT = 10.0


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        check=False,
    )


def capture_git(cwd: Path) -> tuple[dict[str, Any], str | None]:
    """Git state of the repository containing ``cwd``.

    Returns:
        ``({"repository", "commit", "branch", "remote", "dirty"}, patch)``; ``patch`` is
        ``git diff HEAD`` (plus untracked files listed) when the tree is dirty, else None.
        Outside a repository: ``({"repository": None}, None)``. In a repository with no
        commits ``commit`` is None.

    Example:
        >>> info, patch = capture_git(Path("/"))
        >>> info["repository"] is None or isinstance(info["repository"], str)
        True
    """
    top = _find_worktree(cwd)
    if top is False:  # no .git above: not a repository, and no subprocess needed to say so
        return {"repository": None}, None
    if shutil.which("git") is None:
        return {"repository": None, "error": "git is not installed"}, None
    try:
        status = _git(cwd, "status", "--porcelain=v2", "--branch", "--untracked-files=normal")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"repository": None, "error": str(exc)}, None
    if status.returncode != 0:
        return {"repository": None}, None
    info: dict[str, Any] = {"commit": None, "branch": None, "remote": None, "dirty": False}
    untracked: list[str] = []
    for line in status.stdout.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2]
            info["commit"] = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2]
            info["branch"] = None if head == "(detached)" else head
        elif line.startswith("? "):
            untracked.append(line[2:])
            info["dirty"] = True
        elif line and not line.startswith("#"):
            info["dirty"] = True
    if top is None:  # a worktree, a submodule or GIT_DIR: ask git
        top = _git(cwd, "rev-parse", "--show-toplevel").stdout.strip() or None
        remote = _git(cwd, "config", "--get", "remote.origin.url")
        url = remote.stdout.strip() if remote.returncode == 0 else None
    else:
        url = _origin_url(Path(top) / ".git" / "config")
    info = {"repository": top, **info}
    if url:
        info["remote"] = _strip_credentials(url)
    patch = None
    if info["dirty"]:
        parts = []
        if info["commit"]:
            diff = _git(cwd, "diff", "HEAD", "--binary")
            parts.append(diff.stdout)
        else:
            parts.append(_git(cwd, "diff", "--cached", "--binary").stdout)
        if untracked:
            parts.append("# untracked files:\n" + "".join(f"#   {name}\n" for name in untracked))
        patch = "".join(parts)
    return info, patch


def _find_worktree(cwd: Path) -> str | Literal[False] | None:
    """The folder holding a ``.git`` directory at or above ``cwd``; False when there is none;
    None when git must be asked (``.git`` is a file, or ``GIT_DIR`` is set)."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return None
    here = cwd.resolve()
    for folder in (here, *here.parents):
        marker = folder / ".git"
        if marker.is_dir():
            return str(folder)
        if marker.exists():
            return None
    return False


_ORIGIN = re.compile(r'^\s*\[remote\s+"origin"\]\s*$(.*?)(?=^\s*\[|\Z)', re.MULTILINE | re.DOTALL)
_URL = re.compile(r"^\s*url\s*=\s*(.+?)\s*$", re.MULTILINE)


def _origin_url(config: Path) -> str | None:
    """``remote.origin.url`` read from a repository's config file."""
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    section = _ORIGIN.search(text)
    url = _URL.search(section.group(1)) if section else None
    return url.group(1).strip('"') if url else None


def _strip_credentials(url: str) -> str:
    return re.sub(r"//[^/@]+@", "//", url)


def list_distributions() -> list[tuple[str, str]]:
    """Installed distributions as ``(name, version)``, read from ``*.dist-info`` folder names.

    This reads directory listings only, which keeps run start fast; a folder's listing is
    remembered while the folder is unchanged (installing a distribution changes it).
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = entry or "."
        try:
            stamp = os.stat(folder).st_mtime_ns
        except OSError:
            continue
        for dist, version in _folder_distributions(os.path.abspath(folder), stamp):
            found.setdefault(dist, version)
    return sorted(found.items())


@functools.lru_cache(maxsize=64)
def _folder_distributions(folder: str, stamp: int) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return ()
    for name in names:
        if name.endswith(".dist-info"):
            stem = name[: -len(".dist-info")]
            dist, _, version = stem.partition("-")
            if version:
                found.setdefault(dist.replace("_", "-").lower(), version)
        elif name.endswith(".egg-info"):
            stem = name[: -len(".egg-info")]
            dist, _, version = stem.partition("-")
            version = version.split("-py")[0]
            if version:
                found.setdefault(dist.replace("_", "-").lower(), version)
    return tuple(found.items())


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def capture_environment() -> dict[str, Any]:
    """Python, platform, host, user, CPU count, memory, GPUs, command line and environment variables.

    ``gpus`` lists each NVIDIA GPU's model, memory and driver (:func:`gpu_inventory`; an
    empty list where there is none or NVML is unavailable).

    Secrets are redacted from the variables and from ``argv`` (see :mod:`._secrets`): a
    variable whose name looks like a secret (PASSWORD, TOKEN, DSN, ...) keeps its name with
    the value ``<redacted>``; in other values and arguments URL passwords and well-known
    token formats are replaced. Redacted variable names are listed under
    ``variables_redacted``; ``[tool.runlab.secrets]`` adjusts the rule.

    Example:
        >>> env = capture_environment()
        >>> env["python"]["version"].count(".") >= 2
        True
    """
    rules = load_rules()
    variables, redacted = redact_environ(os.environ, rules)
    uname = os.uname()
    return {
        "python": {
            "version": ".".join(str(part) for part in sys.version_info[:3]),
            "implementation": {"cpython": "CPython", "pypy": "PyPy"}.get(
                sys.implementation.name, sys.implementation.name
            ),
            "executable": sys.executable,
        },
        "platform": {"system": uname.sysname, "release": uname.release, "machine": uname.machine},
        "host": os.uname().nodename,
        "user": _user(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "gpus": gpu_inventory(),
        "cwd": os.getcwd(),
        "argv": redact_argv(sys.argv, rules),
        "variables": variables,
        "variables_redacted": redacted,
    }


def snapshot_code(source: Path, code_dir: Path) -> Path | None:
    """Copy the experiment's source file into ``code_dir``; None when it cannot be read.

    The runs of one process that snapshot the same unchanged file share one copy (a hard
    link, see :func:`~runlab.store._files.write_or_link`).
    """
    try:
        st = source.stat()
        if not stat.S_ISREG(st.st_mode):
            return None
        code_dir.mkdir(exist_ok=True)
        target = code_dir / source.name
        key = ("code", os.fspath(source), st.st_ino, st.st_size, st.st_mtime_ns)
        write_or_link(target, key, lambda path: shutil.copy2(source, path))
        return target
    except OSError:
        return None
