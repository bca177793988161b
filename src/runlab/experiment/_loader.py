"""Executing a ``.py`` file the way ``python file.py`` would, with globals injected.

:func:`exec_file` runs a whole file as ``__main__`` (what ``runlab run`` does with a
functional experiment file) through :func:`runlab._pyfile.loaded_module`, the one loader's
"as ``python file.py``" mode (reading, compiling and installing the module are there).

:func:`prepare_tree` makes the copy of a script that injection needs: without its top-level
assignments to the injected names and without its ``if __name__ == "__main__":`` blocks.

Source is compiled here (``dont_inherit=True``, with the real file name): tracebacks show
the user's file and lines, no ``__pycache__`` is written beside the script, and runlab's own
``from __future__`` imports never leak into user code.
"""

from __future__ import annotations

import ast
import copy
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .._pyfile import (
    check_python_file,
    compile_file,
    compile_tree,
    is_main_guard,
    loaded_module,
    parse_file,
    split_target,
)
from ..errors import ValidationError

__all__ = [
    "PROTECTED_NAMES",
    "SINK",
    "check_inject",
    "check_python_file",
    "compile_tree",
    "exec_file",
    "loaded_module",
    "parse_file",
    "prepare_tree",
    "split_target",
]

PROTECTED_NAMES = frozenset(
    {"__name__", "__file__", "__builtins__", "__spec__", "__loader__", "__package__", "__cached__"}
)
"""Module attributes that injection may not replace."""

SINK = "__runlab_discard__"
"""The global a prepared script unpacks injected names into (see :func:`prepare_tree`); set it to a dict."""

_TRY_TYPES: tuple[type[ast.stmt], ...] = tuple(t for t in (ast.Try, getattr(ast, "TryStar", None)) if t is not None)


def check_inject(names: Sequence[str] | Mapping[str, Any]) -> None:
    """Refuse names that cannot be injected as globals: protected module attributes, non-identifiers.

    Raises:
        ValidationError: naming the offending names.

    Example:
        >>> try:
        ...     check_inject({"lr": 0.1, "__file__": "x.py"})
        ... except ValidationError as exc:
        ...     print(str(exc).split(":")[0])
        Cannot inject '__file__'
    """
    protected = [n for n in names if n in PROTECTED_NAMES]
    if protected:
        raise ValidationError(
            f"Cannot inject {', '.join(map(repr, protected))}: protected module attributes "
            f"({', '.join(sorted(PROTECTED_NAMES))}) cannot be replaced. Rename the global in the config."
        )
    bad = [n for n in names if not isinstance(n, str) or not n.isidentifier()]
    if bad:
        raise ValidationError(
            f"Cannot inject {', '.join(map(repr, bad))}: global names must be Python identifiers "
            "such as 'learning_rate'."
        )


class _Stripper:
    """Removes assignments to injected names from module-level code (not from functions or loops)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self.used_sink = False

    def block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out = [new for stmt in body for new in self.stmt(stmt)]
        return out if out or not body else [ast.copy_location(ast.Pass(), body[0])]

    def stmt(self, node: ast.stmt) -> list[ast.stmt]:
        if isinstance(node, ast.Assign):
            targets = [t for t in (self._target(t) for t in node.targets) if t is not None]
            if not targets:
                return []
            node.targets = targets
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name) and node.target.id in self.names:
                node.value = None  # the bare annotation stays in __annotations__
        elif isinstance(node, (ast.If, ast.With)):
            node.body = self.block(node.body)
            if isinstance(node, ast.If):
                node.orelse = self.block(node.orelse)
        elif isinstance(node, _TRY_TYPES):
            for part in ("body", "orelse", "finalbody"):
                setattr(node, part, self.block(getattr(node, part)))
            for handler in node.handlers:  # type: ignore[attr-defined]
                handler.body = self.block(handler.body)
        return [node]

    def _binds(self, target: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.names for n in ast.walk(target))

    def _target(self, target: ast.expr) -> ast.expr | None:
        if isinstance(target, ast.Name):
            return None if target.id in self.names else target
        if isinstance(target, (ast.Tuple, ast.List)) and self._binds(target):
            return self._element(target)
        return target

    def _element(self, node: ast.expr) -> ast.expr:
        """Unpacking into an injected name unpacks into a throwaway dict instead."""
        if isinstance(node, ast.Name) and node.id in self.names:
            self.used_sink = True
            sink = ast.Subscript(ast.Name(SINK, ast.Load()), ast.Constant(node.id), ast.Store())
            return ast.copy_location(sink, node)
        if isinstance(node, ast.Starred):
            node.value = self._element(node.value)
        elif isinstance(node, (ast.Tuple, ast.List)):
            node.elts = [self._element(e) for e in node.elts]
        return node


def prepare_tree(
    tree: ast.Module, names: Iterable[str], as_main: bool = True
) -> tuple[ast.Module, list[ast.Module], bool]:
    """Split a script for injection: its module body and its main blocks, minus assignments to ``names``.

    Returns:
        The module without its ``if __name__ == "__main__":`` blocks (the ``else`` part stays
        when not ``as_main``), each main block's body as a module, and whether the code
        needs the throwaway dict ``__runlab_discard__`` in its globals.

    Example:
        >>> src = "lr = 0.1\\nbs: int = 32\\nif __name__ == '__main__':\\n    lr = 1\\n    main()\\n"
        >>> body, mains, _ = prepare_tree(ast.parse(src), {"lr", "bs"})
        >>> ast.unparse(body), [ast.unparse(m) for m in mains]
        ('bs: int', ['main()'])
    """
    tree = copy.deepcopy(tree)
    stripper = _Stripper(names)
    body: list[ast.stmt] = []
    mains: list[ast.Module] = []
    for node in tree.body:
        if is_main_guard(node):
            assert isinstance(node, ast.If)
            mains.append(ast.Module(body=stripper.block(node.body), type_ignores=[]))
            if not as_main:
                body += stripper.block(node.orelse)
        else:
            body += stripper.stmt(node)
    return ast.Module(body=body, type_ignores=tree.type_ignores), mains, stripper.used_sink


def exec_file(
    path: str | os.PathLike[str],
    *,
    as_main: bool = True,
    argv: Sequence[str] | None = None,
    inject: Mapping[str, Any] | None = None,
) -> ModuleType:
    """Execute a whole Python file as ``python path`` would and return its module.

    Args:
        path: the ``.py`` file.
        as_main: run it as ``__main__`` (its ``if __name__ == "__main__":`` block runs).
        argv: the command line the file sees: ``sys.argv`` is ``[path, *argv]`` (a first item
            equal to ``path`` is not repeated).
        inject: globals set before the file's first line runs (its own assignments win).

    Returns:
        The module, after everything was restored (see :func:`loaded_module`).

    Raises:
        ExperimentNotFoundError, ValidationError: no such ``.py`` file, a syntax error,
            or a protected name in ``inject``.
        BaseException: whatever the file's code raises, unchanged.

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "greet.py"
        >>> _ = f.write_text("import sys\\nwho = sys.argv[1]\\nif __name__ == '__main__':\\n    msg = greeting + who")
        >>> exec_file(f, argv=["world"], inject={"greeting": "hello "}).msg
        'hello world'
    """
    file = check_python_file(path)
    code = compile_file(file)
    if inject:
        check_inject(inject)
    args = list(argv or [])
    if args and Path(args[0]).resolve() == file:
        args = args[1:]
    with loaded_module(file, as_main=as_main, argv=args) as module:
        module.__dict__.update(inject or {})
        exec(code, module.__dict__)
    return module
