"""Which function of a plain script to call, and how to call it.

Discovery, first match wins:

1. an explicit name (``entrypoint="train"``, or ``path.py:train``);
2. the function marked with :func:`entrypoint` (``@runlab.entrypoint``);
3. the function called in the ``if __name__ == "__main__":`` block (``main()``,
   ``result = main()``, ``sys.exit(main())``, ``raise SystemExit(main())``, ``asyncio.run(main())``);
4. a function named ``main``;
5. else the ``if __name__ == "__main__":`` block itself; a script with neither just runs its top level.

The script is read with :mod:`ast` (:class:`ScriptInfo`), so most mistakes (an entry point
that does not exist, two marked functions) are found before a run is created.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypeVar, overload

from .._pyfile import is_main_guard
from .._valueclass import value_class
from ..errors import ValidationError
from ._calls import run_to_end

__all__ = ["Entry", "ScriptInfo", "analyse", "call_entrypoint", "entrypoint", "find_entrypoint"]

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__runlab_entrypoint__"
_WRAPPERS = {"exit", "quit", "SystemExit", "sys.exit", "asyncio.run"}
_DYNAMIC_CALLS = {"globals", "exec", "setattr", "vars", "__import__"}


@overload
def entrypoint(func: F) -> F: ...
@overload
def entrypoint(func: None = None) -> Callable[[F], F]: ...
def entrypoint(func: F | None = None) -> F | Callable[[F], F]:
    """Mark the function of a plain script that :func:`runlab.run_script` calls.

    A no-op otherwise: the script still runs with plain ``python``. Written ``@runlab.entrypoint``
    or ``@runlab.entrypoint()``.

    Example:
        >>> import runlab
        >>> @runlab.entrypoint
        ... def train(epochs=3):
        ...     return epochs
        >>> train(), train.__runlab_entrypoint__
        (3, True)
    """

    def mark(fn: F) -> F:
        setattr(fn, _MARK, True)
        return fn

    return mark if func is None else mark(func)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _called(node: ast.expr | None) -> str | None:
    """``f`` for ``f(...)``, and for ``sys.exit(f(...))``-like wrappers around it."""
    if not isinstance(node, ast.Call):
        return None
    name = _dotted(node.func)
    if name in _WRAPPERS and node.args and isinstance(node.args[0], ast.Call):
        return _called(node.args[0])
    return node.func.id if isinstance(node.func, ast.Name) else None


def _main_calls(body: Sequence[ast.stmt]) -> list[str]:
    names: list[str] = []
    for stmt in body:
        value: ast.expr | None = None
        if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)):
            value = stmt.value
        elif isinstance(stmt, ast.Raise):
            value = stmt.exc
        name = _called(value)
        if name is not None and name not in names:
            names.append(name)
    return names


def _is_marked(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if _dotted(target).rpartition(".")[2] == "entrypoint":
            return True
    return False


class _Binder(ast.NodeVisitor):
    """Names bound in the module's own scope (function, class and lambda bodies not entered)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.star = False

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.names.add(node.name)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.star = True
            else:
                self.names.add(alias.asname or alias.name.partition(".")[0])

    visit_ImportFrom = visit_Import

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.names.add(node.id)


@value_class(frozen=True)
class ScriptInfo:
    """What a script's source says, read with :mod:`ast` (nothing is executed).

    Attributes:
        path: the script (absolute).
        tree: its parsed module.
        functions: top-level ``def`` names, in order.
        marked: top-level functions decorated with ``entrypoint``.
        bound: every name the module's top level binds (definitions, imports, assignments,
            ``global`` declarations), main blocks excepted.
        dynamic: the module may bind names ``bound`` does not show (``import *``, ``globals()``,
            ``exec``, ``setattr``, ``vars``).
        main_blocks: the top-level ``if __name__ == "__main__":`` statements.
        main_calls: the names called in them, in order.
        docstring: the module docstring.
    """

    path: Path
    tree: ast.Module
    functions: tuple[str, ...]
    marked: tuple[str, ...]
    bound: frozenset[str]
    dynamic: bool
    main_blocks: tuple[ast.If, ...]
    main_calls: tuple[str, ...]
    docstring: str | None

    def defines(self, name: str) -> bool | None:
        """True when the top level binds ``name``, False when it surely does not, None when unknowable."""
        if name in self.bound:
            return True
        return None if self.dynamic else False

    def describe_functions(self) -> str:
        """``"main, train"`` or ``"none"``."""
        return ", ".join(self.functions) or "none"


def analyse(tree: ast.Module, path: Path) -> ScriptInfo:
    """Read what :class:`ScriptInfo` holds from a parsed script.

    Example:
        >>> src = "def main():\\n    pass\\nif __name__ == '__main__':\\n    raise SystemExit(main())\\n"
        >>> info = analyse(ast.parse(src), Path("s.py"))
        >>> info.functions, info.main_calls, info.defines("main"), info.defines("train")
        (('main',), ('main',), True, False)
    """
    guards = tuple(node for node in tree.body if isinstance(node, ast.If) and is_main_guard(node))
    binder = _Binder()
    for node in tree.body:
        if node not in guards:
            binder.visit(node)
    dynamic = binder.star
    for item in ast.walk(tree):
        if isinstance(item, ast.Global):
            binder.names.update(item.names)
        elif isinstance(item, ast.Call) and isinstance(item.func, ast.Name) and item.func.id in _DYNAMIC_CALLS:
            dynamic = True
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    calls: list[str] = []
    for guard in guards:
        calls += [name for name in _main_calls(guard.body) if name not in calls]
    return ScriptInfo(
        path=path,
        tree=tree,
        functions=tuple(dict.fromkeys(d.name for d in defs)),
        marked=tuple(dict.fromkeys(d.name for d in defs if _is_marked(d))),
        bound=frozenset(binder.names),
        dynamic=dynamic,
        main_blocks=guards,
        main_calls=tuple(calls),
        docstring=ast.get_docstring(tree),
    )


Rule = Literal["explicit", "marked", "main_block_call", "main", "main_block", "none"]


@value_class(frozen=True)
class Entry:
    """The entry point found in a loaded script.

    Attributes:
        rule: which discovery rule matched (``"none"``: the top level was all there was to run).
        name: the function's name (None for ``main_block`` and ``none``).
        func: the function (None for ``main_block`` and ``none``).
    """

    rule: Rule
    name: str | None = None
    func: Callable[..., Any] | None = None


def check_static(info: ScriptInfo, explicit: str | None, injected: Sequence[str] = ()) -> None:
    """Raise what can be known to be wrong before the script runs.

    Raises:
        ValidationError: the explicit entry point is surely missing, or several functions are marked.
    """
    if explicit is not None:
        if not explicit.isidentifier():
            raise ValidationError(f"Invalid entry point {explicit!r}: give the name of a function of {info.path}.")
        if explicit not in injected and info.defines(explicit) is False:
            raise _missing(info, explicit)
    elif len(info.marked) > 1:
        raise ValidationError(
            f"{info.path} marks several functions as entry point ({', '.join(info.marked)}); mark one, "
            "or choose one with entrypoint=NAME (--entrypoint NAME)."
        )


def _missing(info: ScriptInfo, name: str) -> ValidationError:
    return ValidationError(
        f"Entry point {name!r} not found in {info.path}; the script defines these functions: "
        f"{info.describe_functions()}. Give one of them as the entry point."
    )


def find_entrypoint(module: ModuleType, info: ScriptInfo, explicit: str | None = None) -> Entry:
    """Find the entry point in a script whose top level has run (discovery order in the module docstring).

    Raises:
        ValidationError: the explicit name is missing or not callable; several marked functions.
    """
    namespace = module.__dict__
    if explicit is not None:
        func = namespace.get(explicit)
        if func is None:
            raise _missing(info, explicit)
        if not callable(func):
            raise ValidationError(
                f"Entry point {explicit!r} of {info.path} is a {type(func).__name__}, not a function. "
                f"Functions: {info.describe_functions()}."
            )
        return Entry("explicit", explicit, func)
    marked = [
        name
        for name, value in namespace.items()
        if callable(value)
        and getattr(value, _MARK, False) is True
        and getattr(value, "__module__", None) == module.__name__
    ]
    if len(marked) > 1:
        raise ValidationError(
            f"{info.path} marks several functions as entry point ({', '.join(marked)}); mark one, "
            "or choose one with entrypoint=NAME."
        )
    if marked:
        return Entry("marked", marked[0], namespace[marked[0]])
    for name in info.main_calls:
        value = namespace.get(name)
        if name in info.bound and callable(value) and not isinstance(value, type):
            return Entry("main_block_call", name, value)
    main = namespace.get("main")
    if callable(main) and not isinstance(main, type):
        return Entry("main", "main", main)
    return Entry("main_block") if info.main_blocks else Entry("none")


def bindable(func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Whether ``func`` can be called with ``args`` and the ``kwargs`` it accepts."""
    try:
        signature = inspect.signature(func)
        signature.bind(*args, **_accepted(signature, kwargs))
    except (TypeError, ValueError):
        return False
    return True


def _accepted(signature: inspect.Signature, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    params = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(kwargs)
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {k: v for k, v in kwargs.items() if k in params and params[k].kind in keyword}


def call_entrypoint(func: Callable[..., Any], args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Any:
    """Call ``func`` with ``args`` and the keyword arguments its signature accepts.

    Every keyword argument goes to a function with ``**kwargs``; otherwise those it does not
    name are left out. A coroutine or generator function is run to its end (:func:`run_to_end`).

    Raises:
        ValidationError: ``args`` and the accepted kwargs do not fit the signature.

    Example:
        >>> def main(n, scale=1):
        ...     return n * scale
        >>> call_entrypoint(main, [3], {"scale": 2, "unused": True})
        6
        >>> try:
        ...     call_entrypoint(main, [1, 2, 3])
        ... except ValidationError as exc:
        ...     print(str(exc).split(":")[0])
        Cannot call main(n, scale=1) with args [1, 2, 3] and kwargs {}
    """
    kwargs = kwargs or {}
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature
        result = func(*args, **kwargs)
    else:
        accepted = _accepted(signature, kwargs)
        try:
            signature.bind(*args, **accepted)
        except TypeError as exc:
            name = getattr(func, "__name__", repr(func))
            raise ValidationError(
                f"Cannot call {name}{signature} with args {list(args)!r} and kwargs {accepted!r}: {exc}. "
                "Make the config's args and kwargs match the function."
            ) from None
        result = func(*args, **accepted)
    return run_to_end(func, result)
