"""Archived runs as experiments: finding a run's folder, and the run's generated ``analysis.py``.

Every functional run gets an ``analysis.py`` in its folder. It holds the experiment's
``@experiment.analysis`` functions (or a starting template) under a small header that loads
the run with :meth:`runlab.Experiment.load`, so ``python <run folder>/analysis.py`` analyses
the archived run: ``e.PARAM`` reads its parameters, ``e["a/b"]`` its data, ``e.metrics()``
its metric history and ``e.path`` is its folder.
"""

from __future__ import annotations

import ast
import inspect
import os
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import RunNotFoundError
from ..store._api import get_store
from ..store._files import read_json
from ..store._store import Store

__all__ = ["analysis_source", "find_archive", "module_imports", "render_analysis", "write_analysis"]

_TEMPLATE = '''\
def analysis(e):
    """Analyse the archived run: e.PARAM, e["a/b"], e.metrics(), e.path."""
    e.log_parameters()
    print(sorted(e.data))
'''


def find_archive(ref: str | os.PathLike[str], root: str | os.PathLike[str] | Store | None = None) -> tuple[Path, Store]:
    """The folder of a run given as its folder (or its ``run.json``), an ID, an ID prefix or a name.

    A folder is used as it is; the store it belongs to is the folder ``namespace``-deep above it.

    Raises:
        RunNotFoundError: nothing matches (``AmbiguousRunError`` when several runs do).
    """
    path = Path(os.fspath(ref))
    if path.name == "run.json" and path.is_file():
        path = path.parent
    if (path / "run.json").is_file():
        folder = path.resolve()
        if root is not None:
            return folder, get_store(root)
        meta = read_json(folder / "run.json")
        depth = len(str(meta.get("namespace") or "default").split("/"))
        return folder, get_store(folder.parents[depth] if len(folder.parents) > depth else folder.parent)
    store = get_store(root)
    if path.is_dir() or os.sep in str(ref):
        raise RunNotFoundError(f"{ref} is not a run folder (it has no run.json). Give a run's folder, ID or name.")
    record = store.load(str(ref))
    return record.path, store


def analysis_source(fn: Callable[..., Any]) -> str | None:
    """The source of ``fn`` without its decorators, dedented; None when it cannot be read.

    Example:
        >>> def twice(x):
        ...     return 2 * x
        >>> print(analysis_source(twice) or "(interactive)")  # doctest: +ELLIPSIS
        def twice(x):...
    """
    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    lines = text.splitlines()
    return "\n".join(lines[node.lineno - 1 :]).rstrip() + "\n"


def module_imports(path: Path | None) -> tuple[list[str], list[str]]:
    """The top-level ``from __future__`` imports and the other import statements of a Python file."""
    if path is None or not path.is_file():
        return [], []
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return [], []
    future: list[str] = []
    others: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            text = ast.get_source_segment(source, node) or ast.unparse(node)
            is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            (future if is_future else others).append(text)
    return future, others


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _needed(imports: Sequence[str], code: str) -> list[str]:
    """The import statements that bind a name ``code`` uses (so the generated file has no unused import)."""
    try:
        used = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return list(imports)
    kept = []
    for statement in imports:
        try:
            node = ast.parse(statement).body[0]
        except (SyntaxError, IndexError):
            continue
        assert isinstance(node, (ast.Import, ast.ImportFrom))
        bound = {(a.asname or a.name).partition(".")[0] for a in node.names}
        if "*" in bound or bound & used:
            kept.append(statement)
    return kept


def render_analysis(
    meta: dict[str, Any], functions: Sequence[Callable[..., Any]], files: Sequence[Path], source: Path | None
) -> str:
    """The text of a run's ``analysis.py``.

    Args:
        meta: the run's record (``id``, ``namespace``, ``experiment``).
        functions: the experiment's analysis functions (a template when empty).
        files: the files whose top-level imports the functions may rely on.
        source: the experiment file (its folder goes on ``sys.path``).
    """
    future: list[str] = []
    imports: list[str] = []
    for file in files:
        f, o = module_imports(file)
        future += f
        imports += o
    bodies = []
    for fn in functions:
        body = analysis_source(fn)
        if body is None:
            name = getattr(fn, "__name__", "analysis")
            body = f"def {name}(e):\n    # the source of {name} could not be read (defined interactively)\n    pass\n"
        bodies.append("@experiment.analysis\n" + body)
    if not bodies:
        bodies.append("@experiment.analysis\n" + _TEMPLATE)
    where = f"sys.path.insert(0, {str(source.parent)!r})\n" if source is not None else ""
    label = meta.get("experiment") or meta.get("namespace")
    head = (
        "# Generated by runlab; its imports follow sys.path.insert, so linters skip it:\n# ruff: noqa\n"
        f'"""Analysis of run {meta.get("id")} ({label}), generated by runlab.\n\n'
        "Run it with ``python analysis.py``: the functions below get this run as a read-only\n"
        'experiment (e.PARAM, e["a/b"], e.metrics(), e.path). Edit it freely.\n'
        '"""\n\n'
    )
    parts = [head]
    if future:
        parts.append("\n".join(_unique(future)) + "\n\n")
    parts.append("import sys\nfrom pathlib import Path\n\n")
    parts.append(where)
    imports = _needed(_unique(imports), "\n".join(bodies))
    parts.append("\n".join(_unique([*imports, "from runlab import Experiment"])) + "\n\n")
    parts.append("experiment = Experiment.load(Path(__file__).resolve().parent)\n\n\n")
    parts.append("\n\n".join(bodies))
    parts.append('\n\nif __name__ == "__main__":\n    experiment.analyse()\n')
    return "".join(parts)


def write_analysis(
    folder: Path,
    meta: dict[str, Any],
    functions: Sequence[Callable[..., Any]],
    files: Sequence[Path],
    source: Path | None,
) -> Path:
    """Write ``analysis.py`` into the run folder ``folder``; returns its path."""
    target = folder / "analysis.py"
    target.write_text(render_analysis(meta, functions, files, source), encoding="utf-8")
    return target
