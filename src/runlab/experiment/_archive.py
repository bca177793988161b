"""Archived runs as experiments: finding a run's folder, and the run's generated ``analysis.py``.

Every functional run gets an ``analysis.py`` in its folder. It holds the experiment's
``@experiment.analysis`` functions (or a starting template) under a small header that loads
the run with :meth:`runlab.Experiment.load`, so ``python <run folder>/analysis.py`` analyses
the archived run: ``e.PARAM`` reads its parameters, ``e["a/b"]`` its data, ``e.metrics()``
its metric history and ``e.path`` is its folder.
"""

from __future__ import annotations

import ast
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RunNotFoundError
from ..lifecycle._values import param_value
from ..store._api import get_store
from ..store._files import read_json
from ..store._store import Store

if TYPE_CHECKING:
    from ._functional import Experiment

__all__ = [
    "analyse",
    "metadata_of",
    "metrics_of",
    "analysis_source",
    "archived_experiment",
    "find_archive",
    "module_imports",
    "render_analysis",
    "write_analysis",
]

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
    import textwrap  # only when an analysis is archived: kept off every run's start-up

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
    except (OSError, UnicodeDecodeError):
        return [], []
    future, others = _imports_of(source)
    return list(future), list(others)


@functools.lru_cache(maxsize=32)
def _imports_of(source: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`module_imports` of a source text, remembered (a sweep writes one analysis per run)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return (), ()
    future: list[str] = []
    others: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            text = ast.get_source_segment(source, node) or ast.unparse(node)
            is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            (future if is_future else others).append(text)
    return tuple(future), tuple(others)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _needed(imports: Sequence[str], code: str) -> list[str]:
    """The import statements that bind a name ``code`` uses (so the generated file has no unused import)."""
    return list(_needed_cached(tuple(imports), code))


@functools.lru_cache(maxsize=32)
def _needed_cached(imports: tuple[str, ...], code: str) -> tuple[str, ...]:
    try:
        used = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return imports
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
    return tuple(kept)


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


def archived_experiment(cls: type[Experiment], ref: str | os.PathLike[str], root: Any = None) -> Experiment:
    """A read-only ``cls`` view of an archived run (see ``Experiment.load``)."""
    from ..lifecycle import RunData
    from ..params import Param

    folder, store = find_archive(ref, root)
    meta = read_json(folder / "run.json")
    obj = cls.__new__(cls)
    obj._blank()
    try:
        data = read_json(folder / "data.json")
    except FileNotFoundError:
        data = {}
    source = meta.get("source")
    obj.namespace, obj.run_name, obj.root = meta.get("namespace"), meta.get("name"), store.root
    obj.description, obj.tags = meta.get("description"), list(meta.get("tags") or [])
    obj.file = Path(source) if source else None
    obj.archive, obj.store = folder, store
    obj.own_data = RunData(data if isinstance(data, dict) else {})
    for name, rec in (meta.get("params") or {}).items():
        value = param_value(rec) if isinstance(rec, dict) else rec
        description = (rec.get("description") if isinstance(rec, dict) else "") or ""
        obj.params.defs[name] = Param(name, Any, value, description, bool(rec.get("usable", True)))
        obj.params.defaults[name] = value
    return obj


def analyse(experiment: Experiment, target: Any = None) -> Any:
    """Call ``experiment``'s analysis functions with an archived run (see ``Experiment.analyse``)."""
    from ..errors import ExperimentContextError

    cls = type(experiment)
    if target is None:
        if experiment.archive is not None:
            view = experiment
        elif experiment.current_run is not None:
            view = cls.load(experiment.current_run.path)
        else:
            raise ExperimentContextError("Nothing to analyse yet: run the experiment, or pass a run.")
    elif isinstance(target, (str, os.PathLike)):
        view = cls.load(target, root=experiment.root)
    else:
        view = cls.load(target.path)
    result = None
    for fn in experiment.analyses:
        value = fn(view)
        if value is not None:
            result = value
    return result


def metadata_of(experiment: Experiment) -> dict[str, Any]:
    """``e.metadata``: the run's record (archived, running or last run), parameters, hooks, tracked names."""
    from ._hooks import describe_hooks

    meta: dict[str, Any]
    if experiment.archive is not None:
        meta = read_json(Path(experiment.archive) / "run.json")
    elif experiment.current_run is not None:
        meta = experiment.current_run.metadata
    else:
        meta = {"namespace": experiment.namespace, "name": experiment.run_name,
                "description": experiment.description, "experiment": experiment.experiment_name}  # fmt: skip
    defs = experiment.params.defs
    meta["parameters"] = {n: defs[n].to_dict(v) for n, v in experiment.parameters.items() if n in defs}
    meta["hooks"] = describe_hooks(experiment.hook_entries())
    meta["__track__"] = sorted(experiment.recorder.steps)
    return meta


def metrics_of(folder: Path, name: str | None = None) -> Any:
    """The metric history in run folder ``folder``: every series, or ``name``'s.

    Raises:
        MetricNotFoundError: the run has no metric ``name``.
    """
    from ..errors import MetricNotFoundError
    from ..store._metrics_file import read_metrics

    series, _ = read_metrics(folder / "metrics.jsonl")
    if name is None:
        return series
    if name not in series:
        raise MetricNotFoundError(f"The run has no metric {name!r}; it has: {', '.join(series) or 'none'}.")
    return series[name]
