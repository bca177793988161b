"""The keys of a script's ``runlab.run(params={...})`` calls, read statically (context-style parameters).

:func:`runlab.experiment._script_params.script_param_parts` makes them a script's parameters:
a run records the values given for them and the ``with`` block that joins the run reads them.
"""

from __future__ import annotations

import ast
from typing import Any

__all__ = ["block_keys", "line_comments", "run_calls", "same_value"]


def run_calls(tree: ast.Module) -> list[ast.Call]:
    """The ``runlab.run(...)`` calls of ``tree`` in source order, through the names the file imports."""
    modules: set[str] = set()
    functions: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name == "runlab")
        elif isinstance(node, ast.ImportFrom) and node.module == "runlab" and not node.level:
            functions.update(a.asname or a.name for a in node.names if a.name == "run")
    if not modules and not functions:
        return []
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id in functions)
            or (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "run"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in modules
            )
        )
    ]
    return sorted(calls, key=lambda c: (c.lineno, c.col_offset))


def block_keys(tree: ast.Module) -> dict[str, tuple[Any, ast.expr]]:
    """The literal keys of the ``params`` dicts of the ``runlab.run()`` calls: name -> (value, value node).

    Only the block that runs first joins the command's run (and reads the values given for it);
    later blocks start runs of their own with their own ``params``. So with several calls every
    key counts, and the first call in the file that gives a key gives its default.

    Example:
        >>> tree = ast.parse("import runlab\\nwith runlab.run(params={'lr': 0.1, 'n': n}):\\n    pass\\n")
        >>> {name: value for name, (value, _) in block_keys(tree).items()}
        {'lr': 0.1}
    """
    found: dict[str, tuple[Any, ast.expr]] = {}
    for call in run_calls(tree):
        given = [k.value for k in call.keywords if k.arg == "params"] or call.args[:1]
        if not given or not isinstance(given[0], ast.Dict) or None in given[0].keys:
            continue  # params= absent, not a dict display, or with ** in it: nothing to read statically
        for key, value in zip(given[0].keys, given[0].values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            name = key.value
            if not name.isidentifier() or name.startswith("_"):
                continue
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue  # a value computed by the code: the block records it when it runs
            found.setdefault(name, (literal, value))  # several calls: the first in the file gives the default
    return found


def same_value(a: Any, b: Any) -> bool:
    """Whether two literal defaults are the same value of the same type (``1`` and ``1.0`` are not)."""
    return type(a) is type(b) and a == b


def line_comments(source: str) -> dict[int, str]:
    """The comment ending each line that has one (a block key's description is the comment beside it)."""
    if "#" not in source:
        return {}
    import io
    import tokenize

    comments: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT and tok.line[: tok.start[1]].strip():
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        return {}
    return comments
