"""The parameter model: :class:`Param`, discovery from a module's globals, special parameters."""

from __future__ import annotations

import ast
import functools
import re
import types
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ._coerce import coerce, type_name
from ._errors import ParameterError
from ._inherit import is_inherit

__all__ = [
    "Param",
    "SPECIAL_PARAMS",
    "declare_special_param",
    "discover_params",
    "is_param_name",
    "is_usable",
    "read_descriptions",
    "scan_source",
]

_PARAM_NAME = re.compile(r"^(?:[A-Z][A-Z0-9_]*|__[A-Z][A-Z0-9_]*__)$")
_SPECIAL_NAME = re.compile(r"^__[A-Z][A-Z0-9_]*__$")


def is_param_name(name: str) -> bool:
    """Whether ``name`` names a parameter: UPPERCASE, or a special name such as ``__DEBUG__``.

    Example:
        >>> is_param_name("LEARNING_RATE"), is_param_name("__DEBUG__"), is_param_name("Lr")
        (True, True, False)
    """
    return bool(_PARAM_NAME.match(name))


def is_usable(value: Any) -> bool:
    """Whether ``value`` can be written to ``run.json`` and given back to reproduce the run.

    True for None, bools, numbers, strings, paths, enums and lists/tuples/dicts (string keys)
    of those, and for pydantic models.
    """
    from enum import Enum

    if value is None or isinstance(value, (bool, int, float, str, Path, Enum)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_usable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_usable(v) for k, v in value.items())
    return hasattr(value, "model_dump")


@value_class
class Param:
    """One parameter of an experiment.

    Attributes:
        name: the global's name, e.g. ``"LEARNING_RATE"`` or ``"__DEBUG__"``.
        type: the annotation, or the type of the default without one (``Any`` for ``None``).
        default: the value in the module (or the declared default of a special parameter).
        description: from the comment beside or directly above the assignment ("" without one).
        usable: whether the value can be stored and reused to reproduce a run (see :func:`is_usable`).

    Example:
        >>> p = Param("LR", float, 0.01, "learning rate")
        >>> p.coerce("0.1"), p.to_dict()["type"]
        (0.1, 'float')
    """

    name: str
    type: Any = Any
    default: Any = None
    description: str = ""
    usable: bool = field(default=True)

    @property
    def special(self) -> bool:
        """True for double-underscore parameters such as ``__DEBUG__``."""
        return bool(_SPECIAL_NAME.match(self.name))

    @property
    def type_name(self) -> str:
        """The type as text, as written to ``run.json``."""
        return type_name(self.type)

    def coerce(self, value: Any, base_dir: Path | None = None) -> Any:
        """Convert ``value`` to this parameter's type (see :func:`runlab.params.coerce`)."""
        return coerce(value, self.type, self.name, base_dir=base_dir)

    def to_dict(self, value: Any = ...) -> dict[str, Any]:
        """The record stored per parameter: name, type, description, value (the default if not given), usable."""
        value = self.default if value is ... else value
        return {
            "name": self.name,
            "type": self.type_name,
            "description": self.description,
            "value": value,
            "usable": is_usable(value),
        }


_SPECIAL: dict[str, Param] = {}
SPECIAL_PARAMS: Mapping[str, Param] = types.MappingProxyType(_SPECIAL)
"""The special parameters every experiment has, read-only (use :func:`declare_special_param` to add)."""


def declare_special_param(name: str, type_: Any, default: Any, description: str = "") -> Param:
    """Declare a special parameter (a plugin's, e.g. ``__NOTIFY__``); settable like any other.

    Declaring the same name again with the same type is allowed (plugins reload); another type
    is an error.

    Raises:
        ParameterError: the name is not ``__UPPERCASE__`` or is declared with another type.

    Example:
        >>> declare_special_param("__SEED__", int, 0, "Random seed of the run.").name
        '__SEED__'
    """
    if not _SPECIAL_NAME.match(name):
        raise ParameterError(
            f"Invalid special parameter name {name!r}: it must be UPPERCASE between double underscores, "
            "e.g. '__MY_OPTION__'.",
            name,
        )
    old = _SPECIAL.get(name)
    if old is not None and old.type != type_:
        raise ParameterError(
            f"Special parameter {name!r} is already declared with type {old.type_name}; "
            f"cannot declare it again as {type_name(type_)}.",
            name,
        )
    param = Param(name, type_, default, description, is_usable(default))
    _SPECIAL[name] = param
    return param


for _name, _type, _default, _doc in (
    ("__DEBUG__", bool, False, "Write the run to a reusable 'debug' folder, replacing the previous one."),
    ("__TESTING__", bool, False, "Run quickly with the experiment's testing settings to check the code."),
    ("__REPRODUCIBLE__", bool, False, "Save dependencies and sources so the run can be rebuilt later."),
    ("__CACHING__", bool, True, "Load cached results (new results are saved either way)."),
    ("__PREFIX__", str, "", "Prefix for the run's folder name."),
    ("__NOTIFY__", bool, True, "Send a desktop notification when the run ends (notification plugin)."),
    ("__INCLUDE__", list[Path], [], "Mixin files to include (paths, comma-separated on the command line)."),
):
    declare_special_param(_name, _type, _default, _doc)


def read_descriptions(source: str) -> dict[str, str]:
    """Descriptions of top-level assignments, from the comment beside or the comment block directly above.

    Only the source text is read (with :mod:`ast` and :mod:`tokenize`); nothing is executed.
    With both, the block above comes first and the comment beside is appended.

    Example:
        >>> read_descriptions("# Step size.\\nLR = 0.1\\nBS = 32  # samples per step\\n")
        {'LR': 'Step size.', 'BS': 'samples per step'}
    """
    return dict(_read_descriptions(source))


@functools.lru_cache(maxsize=32)
def _read_descriptions(source: str) -> dict[str, str]:
    """:func:`read_descriptions`, remembered per source text (a sweep reads one file per run)."""
    if "#" not in source:  # no comment, no description (and tokenize is not even imported)
        return {}
    import io
    import tokenize

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    comments: dict[int, tuple[str, bool]] = {}  # line -> (text, alone on its line)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                alone = not tok.line[: tok.start[1]].strip()
                comments[tok.start[0]] = (tok.string.lstrip("#").strip(), alone)
    except (tokenize.TokenError, SyntaxError):
        return {}
    found: dict[str, str] = {}
    for node in tree.body:
        for name in _assigned_names(node):
            parts: list[str] = []
            above: list[str] = []
            line = node.lineno - 1
            while line in comments and comments[line][1]:
                above.insert(0, comments[line][0])
                line -= 1
            parts.extend(t for t in above if t)
            end = node.end_lineno or node.lineno
            beside = next((comments[n][0] for n in (node.lineno, end) if n in comments and not comments[n][1]), "")
            if beside:
                parts.append(beside)
            if parts:
                found[name] = " ".join(parts)
    return found


def _assigned_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


def discover_params(module_globals: Mapping[str, Any], source: str | None = None) -> dict[str, Param]:
    """The parameters of a module: its UPPERCASE globals and ``__SPECIAL__`` globals.

    Modules, functions and classes are skipped even when their names are uppercase (and the
    imported ``INHERIT`` marker). A parameter set to ``INHERIT`` keeps the marker as its
    default here; the experiment resolves it against its base. Types come
    from the module's ``__annotations__``, else from the default's type. Descriptions come from
    ``source`` (read from ``module_globals['__file__']`` when not given; no code is executed).

    Example:
        >>> src = "LR: float = 0.1  # step size\\nname = 'x'\\n"
        >>> g: dict = {"__annotations__": {"LR": float}}
        >>> exec(src, g)
        >>> p = discover_params(g, src)["LR"]
        >>> (p.type, p.default, p.description)
        (<class 'float'>, 0.1, 'step size')
    """
    if source is None:
        filename = module_globals.get("__file__")
        if isinstance(filename, str) and filename.endswith(".py"):
            try:
                source = Path(filename).read_text(encoding="utf-8")
            except OSError:
                source = None
    descriptions = read_descriptions(source) if source else {}
    annotations = module_globals.get("__annotations__") or {}
    params: dict[str, Param] = {}
    for name, value in module_globals.items():
        if not is_param_name(name) or isinstance(value, _NOT_PARAMS):
            continue
        if name == "INHERIT" and is_inherit(value):
            continue  # `from runlab import INHERIT` is an import, not a parameter
        type_ = annotations.get(name)
        if type_ is None or isinstance(type_, str):
            type_ = _resolve_annotation(type_) if isinstance(type_, str) else None
        if type_ is None:
            type_ = Any if value is None else type(value)
        params[name] = Param(name, type_, value, descriptions.get(name, ""), is_usable(value))
    return params


_NOT_PARAMS = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)
"""What an UPPERCASE global can hold without being a parameter: modules, functions (``FN = len`` too), classes."""

_SIMPLE_TYPES: dict[str, Any] = {
    "int": int, "float": float, "bool": bool, "str": str, "list": list, "dict": dict, "tuple": tuple,
    "Path": Path, "pathlib.Path": Path, "Any": Any,
}  # fmt: skip


def _resolve_annotation(text: str | None) -> Any:
    return _SIMPLE_TYPES.get(text or "")


def scan_source(source: str, filename: str = "<script>") -> dict[str, Param]:
    """The parameters a script defines, read statically (the script is not run).

    For tools such as ``runlab config check``: top-level UPPERCASE assignments, defaults that are
    literals, and annotations that are simple builtin names; other types stay ``Any``.

    Raises:
        ParameterError: the script is not valid Python.
    """
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise ParameterError(f"Cannot read {filename}: {exc.msg} (line {exc.lineno}).") from None
    descriptions = read_descriptions(source)
    params: dict[str, Param] = {}
    for node in tree.body:
        for name in _assigned_names(node):
            if not is_param_name(name):
                continue
            value_node = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            try:
                default = ast.literal_eval(value_node) if value_node is not None else None
            except (ValueError, TypeError, SyntaxError, RecursionError):
                default = None
            type_: Any = None
            if isinstance(node, ast.AnnAssign):
                type_ = _resolve_annotation(ast.unparse(node.annotation))
            if type_ is None:
                type_ = Any if default is None else type(default)
            params[name] = Param(name, type_, default, descriptions.get(name, ""), is_usable(default))
    return params
