"""Execute a user's Python file as a module: the one loader below every layer that needs one.

Used for the base experiments of ``Experiment.extend``, the mixins of ``include``, Python
config files (``CONFIG`` / ``config_gen()``) and folder plugins. (``runlab run`` executes an
experiment file as ``__main__`` in :mod:`runlab.experiment._loader`, which reads and
compiles files with the same rules.)

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

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, ModuleType

__all__ = ["folder_on_path", "load_module", "module_name"]


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
def folder_on_path(folder: str | os.PathLike[str]) -> Iterator[None]:
    """``folder`` first on ``sys.path`` for the duration (not added twice; removed afterwards)."""
    entry = os.fspath(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            try:
                sys.path.remove(entry)
            except ValueError:
                pass


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
    try:
        with folder_on_path((target if package else target.parent).resolve()):
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
