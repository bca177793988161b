"""Reproducible mode: what a run saves so that ``runlab reproduce`` can rebuild it later.

Beyond the light capture of every run (``env/requirements.txt`` with every installed
distribution, the experiment file in ``code/``), a reproducible run saves when it finishes:

- ``env/dependencies.json``: the Python version and every distribution with its version,
  whether it is editable and where it comes from, whether the experiment imported it and
  whether it is ``needed`` (imported, or required by one that is, transitively);
- ``env/sources/``: a source distribution of each needed editable local package, built
  with uv (``uv build --sdist``) or, without uv, a wheel built by pip;
- ``code/``: the project-local modules the experiment imported (files below the
  experiment's folder that belong to no installed distribution), at their relative paths.

This runs once, at the end of the run, when every import has happened. It never fails the
run: problems are recorded under ``reproducible.problems`` in ``run.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..store._files import atomic_write_bytes

__all__ = ["capture_reproducible", "distributions", "find_uv", "needed_closure"]

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def find_uv() -> str | None:
    """The ``uv`` executable: from the ``uv`` package if installed, else on the PATH."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found, unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def distributions() -> dict[str, dict[str, Any]]:
    """Every installed distribution: version, editable, source, requirements and top-level modules."""
    from importlib import metadata

    found: dict[str, dict[str, Any]] = {}
    # an installed distribution (.dist-info) wins over build metadata of the same name left in a
    # source tree (NAME.egg-info next to an editable package's code)
    dists = sorted(metadata.distributions(), key=lambda d: str(getattr(d, "_path", "")).endswith(".egg-info"))
    for dist in dists:
        name = dist.metadata["Name"]
        if not name or _norm(name) in found:
            continue
        editable, source = False, None
        direct = dist.read_text("direct_url.json")
        if direct:
            try:
                info = json.loads(direct)
                source = info.get("url")
                editable = bool(info.get("dir_info", {}).get("editable"))
            except (ValueError, AttributeError):
                pass
        requires = []
        for req in dist.requires or []:
            if "extra ==" in req:  # optional extras are not needed to run
                continue
            match = _NAME_RE.match(req)
            if match:
                requires.append(_norm(match.group(1)))
        top = (dist.read_text("top_level.txt") or "").split()
        found[_norm(name)] = {"name": name, "version": dist.version, "editable": editable, "source": source,
                              "requires": requires, "top_level": top}  # fmt: skip
    return found


def _imported(dists: Mapping[str, Mapping[str, Any]], modules: Iterable[str]) -> set[str]:
    from importlib import metadata

    tops = {name.partition(".")[0] for name in modules}
    mapping = metadata.packages_distributions()
    out = set()
    for top in tops:
        for dist in mapping.get(top, ()):
            if _norm(dist) in dists:
                out.add(_norm(dist))
    return out


def needed_closure(roots: Iterable[str], dists: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """``roots`` plus every installed distribution they require, transitively.

    Example:
        >>> sorted(needed_closure(["a"], {"a": {"requires": ["b"]}, "b": {"requires": []}, "c": {"requires": []}}))
        ['a', 'b']
    """
    seen: set[str] = set()
    todo = [r for r in roots if r in dists]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(r for r in dists[name].get("requires", ()) if r in dists and r not in seen)
    return seen


def _local_path(source: str | None) -> Path | None:
    if not source or not source.startswith("file:"):
        return None
    path = Path(unquote(urlparse(source).path))
    return path if path.is_dir() else None


def _egg_infos(project: Path) -> set[Path]:
    return {p for folder in (project, project / "src") for p in folder.glob("*.egg-info")}


def _build_source(project: Path, out_dir: Path) -> str:
    """Build ``project`` into ``out_dir``; the project's tree is left as it was.

    (setuptools writes a ``NAME.egg-info`` folder into the source tree while building; one the
    build created is removed again, so the user's tree is unchanged and no stale, non-editable
    metadata shadows the editable install.)
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    before = set(os.listdir(out_dir))
    eggs = _egg_infos(project)
    try:
        return _build(project, out_dir, before)
    finally:
        for made in _egg_infos(project) - eggs:
            shutil.rmtree(made, ignore_errors=True)


def _build(project: Path, out_dir: Path, before: set[str]) -> str:
    uv = find_uv()
    if uv:
        cmd = [uv, "build", "--sdist", "--quiet", "--out-dir", str(out_dir), str(project)]
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out_dir), str(project)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    new = sorted(n for n in set(os.listdir(out_dir)) - before if n.endswith((".tar.gz", ".zip", ".whl")))
    if done.returncode != 0 or not new:
        raise RuntimeError(f"building {project} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return new[-1]


def _module_file(base: Path, dotted: str) -> list[Path]:
    """Files below ``base`` that importing ``dotted`` runs: package ``__init__``s and the module."""
    parts = dotted.split(".")
    files = []
    for i in range(1, len(parts) + 1):
        folder = base.joinpath(*parts[:i])
        if (folder / "__init__.py").is_file():
            files.append(folder / "__init__.py")
        elif folder.with_suffix(".py").is_file():
            files.append(folder.with_suffix(".py"))
            break
        elif not folder.is_dir():
            break
    return files


def _static_imports(source: Path, base: Path) -> set[Path]:
    """Local files ``source`` imports (its ``import`` statements, followed through the files found)."""
    import ast

    found: set[Path] = set()
    todo = [source]
    while todo:
        file = todo.pop()
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
        except (OSError, SyntaxError, ValueError):
            continue
        names = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                package = file.parent
                for _ in range(max(node.level - 1, 0)):
                    package = package.parent
                prefix = "" if node.level == 0 else ".".join(package.relative_to(base).parts)
                module = ".".join(p for p in (prefix, node.module or "") if p)
                names += [module] + [f"{module}.{a.name}" if module else a.name for a in node.names]
        for name in names:
            for path in _module_file(base, name) if name else ():
                if path not in found:
                    found.add(path)
                    todo.append(path)
    return found


def _local_modules(base: Path, source: Path, exclude: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, path relative to ``base``) of local modules the experiment imported, outside ``exclude``.

    Two sources, merged: modules still in ``sys.modules`` whose file lies below ``base``, and the
    files that ``source``'s import statements name (a script runner may have unloaded its
    modules by the time the run ends).
    """
    skip = [p.resolve() for p in exclude]
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    candidates = set(_static_imports(source, base))
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and file.endswith(".py"):
            candidates.add(Path(file))
    found = []
    for candidate in candidates:
        path = candidate.resolve()
        if not path.is_relative_to(base) or any(path.is_relative_to(p) for p in (*skip, *prefixes)):
            continue
        if "site-packages" in path.parts or "__pycache__" in path.parts:
            continue
        found.append((path, path.relative_to(base)))
    return sorted(set(found))


def capture_reproducible(run_path: Path, source: Path | None, extra: Iterable[Path] = ()) -> dict[str, Any]:
    """Save what ``runlab reproduce`` needs into the run folder.

    ``extra`` names more files the run was started with (a config file) to copy into ``code/``.

    Returns:
        the ``reproducible`` record for ``run.json``: python, counts, sources, modules, problems.
    """
    problems: list[str] = []
    dists = distributions()
    imported = _imported(dists, sys.modules)
    needed = needed_closure(imported, dists)
    env_dir = run_path / "env"
    sources: dict[str, str] = {}
    editable_roots: list[Path] = []
    for name in sorted(needed):
        info = dists[name]
        local = _local_path(info["source"]) if info["editable"] else None
        if local is None:
            continue
        editable_roots.append(local)
        try:
            sources[name] = "sources/" + _build_source(local, env_dir / "sources")
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            problems.append(f"source of {info['name']}: {exc}")
    record = {
        "python": ".".join(str(p) for p in sys.version_info[:3]),
        "distributions": {
            info["name"]: {
                "version": info["version"], "editable": info["editable"], "source": info["source"],
                "imported": name in imported, "needed": name in needed, "archive": sources.get(name),
            }
            for name, info in sorted(dists.items())
        },
    }  # fmt: skip
    env_dir.mkdir(exist_ok=True)
    # replaced, not written through: the light capture's file may be a hard link other runs share
    atomic_write_bytes(env_dir / "dependencies.json", (json.dumps(record, indent=2) + "\n").encode(), fsync=False)
    modules: list[str] = []
    if source is not None:
        base = source.parent.resolve()
        for file, rel in _local_modules(base, source.resolve(), editable_roots):
            if file == source.resolve():
                continue
            target = run_path / "code" / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
                modules.append(str(rel))
            except OSError as exc:
                problems.append(f"module {rel}: {exc}")
    for file in extra:
        target = run_path / "code" / file.name
        try:
            if file.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
                modules.append(file.name)
        except OSError as exc:
            problems.append(f"file {file}: {exc}")
    return {"python": record["python"], "needed": len(needed), "sources": sorted(sources.values()),
            "modules": modules, "problems": problems}  # fmt: skip
