"""Execute a user's Python file as a module: the one loader below every layer that needs one.

Two modes. :func:`load_module` imports a file as a named module: the base experiments of
``Experiment.extend``, the mixins of ``include``, Python config files (``CONFIG`` /
``config_gen()``) and folder plugins. :func:`loaded_module` installs a file as ``python
file.py`` would (``__main__``, ``sys.argv``) while the caller executes code in it: what
``runlab run`` does with an experiment file and the script style with a script. Reading
(:func:`check_python_file`, :func:`parse_file`) and compiling (:func:`compile_tree`) are
here too, with the same rules for every file.

What every load does:

- the source is read and compiled by runlab (no ``__pycache__`` is written beside the user's
  file, and a changed file is always read anew);
- the file's folder is on ``sys.path`` while the file runs, so it imports its neighbours as
  with ``python file.py``;
- the module is registered in ``sys.modules`` before it runs (dataclasses, ``typing`` and
  pickle look modules up there) and removed again when running it fails.

**Loaded modules stay in** ``sys.modules`` (``keep=True``, the default), under a name made
from the file's path (:func:`module_name`; a second load of the file replaces the first).
Classes and functions defined in an experiment, mixin or plugin file therefore pickle by
reference, in this process and in workers forked from it, as process and Dask executors
need. A fresh process resolves such a pickle once it has loaded the same file (the name
depends only on the path). Python config files are short-lived: their loader passes
``keep=False`` and keeps the module registered only while the config code runs.
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import CodeType, ModuleType

from .errors import ExperimentNotFoundError, ValidationError

__all__ = [
    "check_python_file",
    "compile_file",
    "compile_tree",
    "folder_on_path",
    "forgetting_siblings",
    "is_main_guard",
    "load_module",
    "loaded_module",
    "module_name",
    "parse_file",
    "parse_source",
    "split_target",
]

_LOCK = threading.RLock()


def module_name(path: str | os.PathLike[str], prefix: str) -> str:
    """The ``sys.modules`` name of a user file: ``prefix``, the file's stem and a hash of its path.

    Example:
        >>> module_name("/work/exp/base.py", "_runlab_experiment").startswith("_runlab_experiment_base_")
        True
    """
    import hashlib

    resolved = Path(path).resolve()
    digest = hashlib.sha1(str(resolved).encode("utf-8")).hexdigest()[:10]
    stem = "".join(c if c.isalnum() or c == "_" else "_" for c in resolved.stem)
    return f"{prefix}_{stem}_{digest}"


@contextmanager
def forgetting_siblings(folder: str | os.PathLike[str], keep: str | None = None) -> Iterator[None]:
    """Remove the modules imported from ``folder`` meanwhile from ``sys.modules`` on exit.

    A user file's sibling imports (``import helper`` next to ``train.py``) are the file's own:
    a later file in another folder importing its own ``helper`` must get that one, as a fresh
    ``python`` would. ``keep`` names a module to leave alone (the file's own module).
    """
    where = os.path.abspath(folder)  # resolved (a file system walk) only if the code imported something
    before = set(sys.modules)
    try:
        yield
    finally:
        new = set(sys.modules) - before
        if new:
            base = Path(where).resolve()
            local = _local_names(base)
            for name in new:
                if name.partition(".")[0] in local and name != keep:
                    origin = getattr(sys.modules.get(name), "__file__", None)
                    if origin and Path(origin).resolve().is_relative_to(base):
                        del sys.modules[name]


@contextmanager
def folder_on_path(folder: str | os.PathLike[str]) -> Iterator[None]:
    """``folder`` first on ``sys.path`` for the duration (not added when first already; removed afterwards).

    ``sys.path`` is rebound to a new list, never changed in place: an import running on another
    thread (a run's background capture) walks the list it started with, and an entry removed
    under it shifts the rest, so it could skip the standard library's folder and fail with
    "No module named 'select'".
    """
    entry = os.fspath(folder)
    added = not sys.path or sys.path[0] != entry
    if added:
        sys.path = [entry, *sys.path]
    try:
        yield
    finally:
        if added and entry in sys.path:
            kept = list(sys.path)
            kept.remove(entry)
            sys.path = kept


def load_module(
    path: str | os.PathLike[str],
    name: str,
    *,
    keep: bool = True,
    code: CodeType | None = None,
) -> ModuleType:
    """Execute the file at ``path`` (a ``.py`` file, or a package folder) as module ``name``.

    Args:
        path: the file, or a folder with ``__init__.py`` (loaded as a package).
        name: the module's name (see :func:`module_name`); never ``"__main__"``.
        keep: leave the module in ``sys.modules`` afterwards (see the module's note).
        code: the compiled file when the caller compiled it already (to report syntax errors its own way).

    Returns:
        The module, its globals as the file left them.

    Raises:
        SyntaxError: the file does not compile (when ``code`` is not given).
        BaseException: whatever the file's code raises (the module is unregistered first).

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "helper.py"
        >>> _ = f.write_text("def double(x):\\n    return 2 * x\\n")
        >>> m = load_module(f, module_name(f, "_demo"))
        >>> m.double(21), sys.modules[m.__name__] is m, m.double.__module__ == m.__name__
        (42, True, True)
    """
    target = Path(path)
    package = target.is_dir()
    init = target / "__init__.py" if package else target
    if package:
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(target)])
    else:
        spec = importlib.util.spec_from_file_location(name, target)
    if spec is None:  # pragma: no cover - only for paths importlib cannot name
        raise ImportError(f"Cannot load {target} as a Python module.")
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(init)
    if code is None:
        code = compile(init.read_bytes(), str(init), "exec", dont_inherit=True)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    folder = (target if package else target.parent).resolve()
    try:
        with folder_on_path(folder), forgetting_siblings(folder) if not keep else nullcontext():
            exec(code, module.__dict__)
    except BaseException:
        _restore(name, previous)
        raise
    if not keep:
        _restore(name, previous)
    return module


def _restore(name: str, previous: ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def split_target(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """``"train.py:fit"`` -> ``("train.py", "fit")``; a path without a function (or an existing
    file whose name has a colon) -> ``(path, None)``.

    Example:
        >>> split_target("tools/train.py:fit"), split_target("train.py")
        (('tools/train.py', 'fit'), ('train.py', None))
    """
    text = os.fspath(path)
    if ":" in text and not Path(text).exists():
        file, _, function = text.rpartition(":")
        if not function:  # 'train.py:' ran the discovered function, not the one the user meant to name
            from .errors import ValidationError

            raise ValidationError(f"Invalid target {text!r}: nothing follows ':'. Name the function "
                                  f"({file}:main), or leave out the ':'.")  # fmt: skip
        return file, function
    return text, None


def check_python_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as an absolute :class:`~pathlib.Path` after checking it is an existing ``.py`` file.

    Raises:
        ExperimentNotFoundError: nothing exists at ``path``.
        ValidationError: a folder, or not a ``.py`` file.

    Example:
        >>> check_python_file("no/such/script.py")
        Traceback (most recent call last):
        ...
        runlab.errors.ExperimentNotFoundError: No such script: no/such/script.py. Give the path of an existing .py file.
    """
    file = Path(path)
    if not file.exists():
        raise ExperimentNotFoundError(f"No such script: {file}. Give the path of an existing .py file.")
    if file.is_dir():
        raise ValidationError(f"{file} is a folder; give a Python script (.py) inside it.")
    if file.suffix != ".py":
        raise ValidationError(f"Cannot run {file}: scripts must be Python files ending in .py.")
    return file.resolve()


def is_main_guard(node: ast.AST) -> bool:
    """Whether ``node`` is ``if __name__ == "__main__":`` (either operand order).

    Example:
        >>> is_main_guard(ast.parse("if '__main__' == __name__: pass").body[0])
        True
    """
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def parse_file(path: str | os.PathLike[str]) -> ast.Module:
    """Parse a Python file (its encoding cookie honoured) without running it.

    Raises:
        ValidationError: a syntax error; the message names the file and the line.
    """
    file = Path(path)
    return parse_source(file.read_bytes(), file)


def parse_source(source: bytes, file: Path) -> ast.Module:
    """:func:`parse_file` of a file's bytes already read."""
    try:
        return ast.parse(source, filename=str(file))
    except SyntaxError as exc:
        raise ValidationError(
            f"Syntax error in {file}, line {exc.lineno}: {exc.msg}. Fix the script and run it again."
        ) from None
    except ValueError as exc:  # null bytes
        raise ValidationError(f"Cannot read {file} as Python: {exc}.") from None


def compile_file(path: str | os.PathLike[str]) -> CodeType:
    """The code of a whole Python file, compiled once per content of the file.

    A sweep executes one experiment file for every run; the file is read each time and its
    code reused while the text is the same (an edit, however quick, compiles it again).

    Raises:
        ValidationError: a syntax error; the message names the file and the line.
    """
    file = Path(path).resolve()
    try:
        source = file.read_bytes()
    except OSError:
        return compile_tree(parse_file(file), file)  # parse_file reports it
    return _compiled(str(file), source)


@functools.lru_cache(maxsize=16)
def _compiled(file: str, source: bytes) -> CodeType:
    return compile_tree(parse_source(source, Path(file)), file)


def compile_tree(tree: ast.Module | Sequence[ast.stmt], path: str | os.PathLike[str]) -> CodeType:
    """Compile a module tree (or a list of statements) with ``path`` as the file name."""
    module = tree if isinstance(tree, ast.Module) else ast.Module(body=list(tree), type_ignores=[])
    ast.fix_missing_locations(module)
    return compile(module, os.fspath(path), "exec", dont_inherit=True)


def _new_module(path: Path, as_main: bool) -> ModuleType:
    if as_main:
        module = ModuleType("__main__")
        module.__file__ = str(path)
        module.__loader__ = importlib.machinery.SourceFileLoader("__main__", str(path))
        module.__spec__ = None
        module.__package__ = None
        module.__cached__ = None  # type: ignore[attr-defined]
        return module
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    return importlib.util.module_from_spec(spec)


def _local_names(folder: Path) -> set[str]:
    """Top-level module names importable from ``folder`` (its ``.py`` files and packages)."""
    names: set[str] = set()
    try:
        for entry in folder.iterdir():
            if entry.suffix == ".py":
                names.add(entry.stem)
            elif entry.is_dir() and (entry / "__init__.py").exists():
                names.add(entry.name)
    except OSError:
        pass
    return names


@contextmanager
def loaded_module(
    path: str | os.PathLike[str], *, as_main: bool = True, argv: Sequence[str] | None = None
) -> Iterator[ModuleType]:
    """A fresh, empty module for ``path``, installed as ``python path`` would install it, while open.

    Args:
        path: the ``.py`` file (made absolute).
        as_main: name the module ``__main__`` and register it as ``sys.modules['__main__']``;
            else name it after the file and register it under that name (unless a module of
            that name is imported already).
        argv: ``sys.argv[1:]`` while open (``sys.argv[0]`` is the path).

    The caller executes code in ``module.__dict__``. On exit ``sys.modules['__main__']`` (or
    the stem's entry), ``sys.path`` and ``sys.argv`` are restored, and modules imported from
    the file's folder meanwhile are removed from ``sys.modules``.

    Example:
        >>> import pathlib, sys, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "s.py"
        >>> _ = f.write_text("x = 1")
        >>> with loaded_module(f) as m:
        ...     sys.modules["__main__"] is m, m.__name__
        (True, '__main__')
        >>> sys.modules["__main__"] is m
        False
    """
    file = Path(path).resolve()
    folder = file.parent
    key = "__main__" if as_main else file.stem
    with _LOCK:
        saved_path = list(sys.path)
        saved_argv = list(sys.argv)
        had_key = key in sys.modules
        saved_module = sys.modules.get(key)
        # a module named after the file never hides an imported module of that name (``json.py``)
        register = as_main or not had_key
        module = _new_module(file, as_main)
        if register:
            sys.modules[key] = module
        sys.path = [str(folder), *sys.path]  # rebound, not changed in place (see folder_on_path)
        sys.argv = [str(file), *(argv or [])]
        try:
            with forgetting_siblings(folder, keep=key):
                yield module
        finally:
            sys.path = saved_path
            sys.argv = saved_argv
            if had_key:
                sys.modules[key] = saved_module  # type: ignore[assignment]
            elif register:
                sys.modules.pop(key, None)
