"""Converting values given as text (command line, environment, config files) to typed values.

Validation uses pydantic, which is imported on first use so that ``import runlab.params`` stays cheap.
"""

from __future__ import annotations

import ast
import enum
import functools
import json
import math
import types
import typing
from pathlib import Path, PurePath
from typing import Any

from ._errors import ParameterError

__all__ = ["coerce", "format_value", "parse_text", "type_name"]

_TRUE = {"true", "yes", "on", "1", "y", "t"}
_FALSE = {"false", "no", "off", "0", "n", "f"}
_NONE = {"none", "null", "~"}


def parse_text(text: str) -> Any:
    """Read a value written as text when no type is known.

    Python literals (``1``, ``0.5``, ``[1, 2]``, ``{'a': 1}``, ``None``), JSON words
    (``true``, ``false``, ``null``) and the booleans ``yes``/``no`` are recognised; anything
    else stays a string. Nothing is ever evaluated.

    Example:
        >>> parse_text("0.01"), parse_text("[1, 2]"), parse_text("true"), parse_text("adam")
        (0.01, [1, 2], True, 'adam')
    """
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("null", "none", "~"):
        return None
    try:
        literal = _literal(stripped)
    except _UnfitFloat:
        return text  # kept as written; :func:`coerce` refuses it, naming the parameter
    return text if literal is _MISSING else literal


_MISSING = object()


class _UnfitFloat(ValueError):
    """A number inside a literal that a float cannot hold (``[1e400]`` would become ``[inf]``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf}
"""As Python prints them (``[nan, inf]``); JSON's ``NaN`` and ``Infinity`` are left to the JSON reader,
which also joins ``\\ud800\\udc00`` escapes into one character as Python literals do not."""


class _FloatWords(ast.NodeTransformer):
    """``nan`` and ``inf`` inside a literal (``[0.1, nan]``, ``{'a': -inf}``) as floats."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        value = _FLOAT_WORDS.get(node.id)
        return ast.copy_location(ast.Constant(value), node) if value is not None else node


def _literal(text: str) -> Any:
    """A Python literal (float words allowed inside containers), then JSON, or ``_MISSING``.

    Raises:
        _UnfitFloat: a number in it does not fit in a float.
    """
    source = text.lstrip(" \t")
    try:
        tree = ast.parse(source, mode="eval")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        tree = None
    if tree is not None:
        if not isinstance(tree.body, ast.Name):  # a bare word stays text: 'nan' is not read as a list item
            tree = _FloatWords().visit(tree)
        try:
            value = ast.literal_eval(tree)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
        else:
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and type(node.value) is float:
                    written = ast.get_source_segment(source, node)
                    if written is not None and not fits_float(written, node.value):
                        raise _UnfitFloat(written)
            return value
    try:
        return json.loads(text)
    except ValueError:
        return _MISSING


def type_name(type_: Any) -> str:
    """A readable name for a type annotation: ``int``, ``list[int]``, ``Literal['a', 'b']``.

    Example:
        >>> type_name(list[int]), type_name(int | None)
        ('list[int]', 'int | None')
    """
    if type_ is None or type_ is type(None):
        return "None"
    if type_ is Any:
        return "Any"
    origin = typing.get_origin(type_)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in typing.get_args(type_)) + "]"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(type_))
    if origin is typing.Annotated:
        return type_name(typing.get_args(type_)[0])
    if origin is not None:
        args = typing.get_args(type_)
        base = getattr(origin, "__name__", str(origin))
        return f"{base}[{', '.join(type_name(a) for a in args)}]" if args else base
    if isinstance(type_, type):
        return type_.__name__
    return str(type_).replace("typing.", "")


def _example(type_: Any) -> str:
    """An example of valid text for ``type_``, for error messages."""
    origin = typing.get_origin(type_)
    args = typing.get_args(type_)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return _example(next((a for a in args if a is not type(None)), str))
    if origin is typing.Annotated:
        return _example(args[0])
    if _is_path_list(type_):
        return "'a.py,b.py' or ['a.py', 'b.py']"
    if origin in (list, set, frozenset, typing.Sequence) or type_ in (list, set):
        return "[1, 2]" if not args else f"[{_example(args[0])}]"
    if origin is tuple or type_ is tuple:
        return "(1, 2)" if not args else "(" + ", ".join(_example(a) for a in args if a is not Ellipsis) + ",)"
    if origin is dict or type_ is dict:
        return "{'key': 1}" if len(args) < 2 else f"{{'key': {_example(args[1])}}}"
    if isinstance(type_, type):
        if issubclass(type_, bool):
            return "true"
        if issubclass(type_, enum.Enum):
            return " or ".join(repr(m.value) for m in type_)
        if issubclass(type_, int):
            return "10"
        if issubclass(type_, float):
            return "0.001"
        if issubclass(type_, PurePath):
            return "data/input.csv"
        if hasattr(type_, "model_fields"):
            names = list(type_.model_fields)[:2]
            return "{" + ", ".join(f"'{n}': ..." for n in names) + "}"
    return "'text'"


def _accepts(type_: Any, kind: tuple[type, ...]) -> bool:
    """Whether ``type_`` (or a member of its union) is one of ``kind`` or a container or model."""
    origin = typing.get_origin(type_)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(a, kind) for a in typing.get_args(type_))
    if origin is typing.Annotated:
        return _accepts(typing.get_args(type_)[0], kind)
    target = origin or type_
    if isinstance(target, type):
        return issubclass(target, kind) or hasattr(target, "model_fields")
    return target in (typing.Sequence, typing.Mapping)


def _allows_none(type_: Any) -> bool:
    origin = typing.get_origin(type_)
    if origin in (typing.Union, types.UnionType):
        return type(None) in typing.get_args(type_)
    return type_ is None or type_ is type(None) or type_ is Any


@functools.lru_cache(maxsize=256)
def _adapter(type_: Any) -> Any:
    from pydantic import ConfigDict, TypeAdapter

    try:
        return TypeAdapter(type_, config=ConfigDict(coerce_numbers_to_str=True, arbitrary_types_allowed=True))
    except Exception:  # a model type carries its own config and refuses another one
        return TypeAdapter(type_)


def _plain_type(type_: Any) -> Any:
    """Actionable parameter types validate as their ``value_type``; Any/None mean no type."""
    if type_ is None:
        return Any
    value_type = getattr(type_, "value_type", None)
    if value_type is not None and isinstance(type_, type) and hasattr(type_, "on_reproducible"):
        return value_type
    return type_


def coerce(value: Any, type_: Any, name: str, base_dir: Path | None = None) -> Any:
    """Convert ``value`` (text or any Python value) to the annotated ``type_`` of parameter ``name``.

    Text for containers, tuples and pydantic models may use Python literal or JSON syntax;
    booleans accept true/false/1/0/yes/no/on/off; ``none``/``null`` gives ``None`` where the
    type allows it; an Enum accepts a member's value or name; a ``list[Path]`` also accepts
    comma-separated text (``"a.py,b.py"``). With ``base_dir``, a relative :class:`~pathlib.Path`
    result (or item of a ``list[Path]``) is resolved against it (for paths read from a config file).

    Args:
        value: the value; a ``str`` is parsed according to ``type_``.
        type_: the annotation; ``None`` or ``Any`` keeps values and reads text with :func:`parse_text`.
        name: the parameter name, for messages.
        base_dir: folder that relative paths are resolved against.

    Raises:
        ParameterError: naming the parameter, the value, the expected type and a valid example.

    Example:
        >>> coerce("0.5", float, "LR"), coerce("yes", bool, "FLAG"), coerce("[1, 2]", list[int], "L")
        (0.5, True, [1, 2])
        >>> [str(p) for p in coerce("a.py,b.py", list[Path], "FILES", base_dir=Path("/x"))]
        ['/x/a.py', '/x/b.py']
    """
    type_ = _plain_type(type_)
    try:
        return _coerce(value, type_, name, base_dir)
    except _UnfitFloat as exc:
        raise ParameterError(
            f"Invalid value for {name!r}: {exc.text!r} in {value!r} does not fit in a float (it would become "
            f"{float(exc.text.replace('_', ''))!r}). Give numbers between about 5e-324 and 1.8e308 in size, 0, or inf.",
            name,
        ) from None


def _coerce(value: Any, type_: Any, name: str, base_dir: Path | None) -> Any:
    if type_ is Any:
        if not isinstance(value, str):
            return value
        parsed = parse_text(value)
        if parsed is value:  # kept as text: refused when a number in it does not fit in a float
            _literal(value.strip())
        return parsed
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _NONE and _allows_none(type_) and not _accepts(type_, (str,)):
            return None
        if type_ is bool:
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            _fail(name, value, type_)
        if isinstance(type_, type) and issubclass(type_, enum.Enum) and value in type_.__members__:
            return type_.__members__[value]
        option = _literal_option(type_, value)
        if option is not _MISSING:
            return option
        if _accepts(type_, (list, tuple, set, frozenset, dict)):
            literal = _literal(value)
            if literal is not _MISSING and not isinstance(literal, str):
                value = literal
            elif _is_path_list(type_):  # a list of paths as text: 'a.py' or 'a.py,b.py'
                value = [part.strip() for part in value.split(",") if part.strip()]
    from pydantic import ValidationError

    try:
        result = _adapter(type_).validate_python(value)
    except ValidationError as exc:
        _fail(name, value, type_, exc)
    except TypeError as exc:  # unhashable annotations and the like
        raise ParameterError(f"Cannot check parameter {name!r} against type {type_!r}: {exc}", name) from None
    if isinstance(value, str) and isinstance(result, float) and not fits_float(value, result):
        raise ParameterError(
            f"Invalid value for {name!r}: {value!r} does not fit in a float (it would become {result!r}). "
            "Give a number between about 5e-324 and 1.8e308 in size, 0, or inf.",
            name,
        )
    if isinstance(value, str) and not value.strip() and isinstance(result, PurePath):
        raise ParameterError(
            f"Invalid value for {name!r}: the path is empty. Give a path like {_example(type_)}, or '.' for "
            "the current folder.",
            name,
        )
    if base_dir is not None and isinstance(result, Path) and not result.is_absolute():
        result = type(result)(base_dir / result)
    elif base_dir is not None and isinstance(result, list) and _is_path_list(type_):
        result = [type(p)(base_dir / p) if isinstance(p, Path) and not p.is_absolute() else p for p in result]
    return result


def fits_float(text: str, result: float) -> bool:
    """Whether the number written as ``text`` kept its size as the float ``result``.

    Text too large for a float becomes ``inf`` and text too small becomes ``0.0``; both would
    change the value the user gave. Words (``inf``, ``nan``) and ordinary rounding are fine.

    Example:
        >>> fits_float("1e300", 1e300), fits_float("1e400", float("inf")), fits_float("1e-400", 0.0)
        (True, False, False)
    """
    if not (math.isinf(result) or result == 0.0):
        return True
    import decimal

    try:
        exact = decimal.Decimal(text.strip().replace("_", ""))
    except (decimal.InvalidOperation, ValueError):
        return True
    return not exact.is_finite() or (math.isfinite(result) and (result != 0.0 or exact == 0))


def _literal_option(type_: Any, text: str) -> Any:
    """The non-text option of a ``Literal`` (or a union holding one) that ``text`` writes, or ``_MISSING``.

    ``Literal[1, 2]`` given ``"1"`` is ``1`` (pydantic compares text with the options as they are).
    """
    origin = typing.get_origin(type_)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        members = typing.get_args(type_)[:1] if origin is typing.Annotated else typing.get_args(type_)
        for member in members:
            found = _literal_option(member, text)
            if found is not _MISSING:
                return found
        return _MISSING
    if origin is not typing.Literal or text in typing.get_args(type_):
        return _MISSING
    parsed = parse_text(text)
    for option in typing.get_args(type_):
        if not isinstance(option, str) and type(option) is type(parsed) and option == parsed:
            return option
    return _MISSING


def _is_path_list(type_: Any) -> bool:
    """Whether ``type_`` is ``list[Path]`` (or another list of path types)."""
    args = typing.get_args(type_)
    return (
        typing.get_origin(type_) is list
        and len(args) == 1
        and isinstance(args[0], type)
        and issubclass(args[0], PurePath)
    )


def _fail(name: str, value: Any, type_: Any, exc: Any = None) -> typing.NoReturn:
    detail = ""
    if exc is not None:
        errors = exc.errors()
        if errors:
            first = errors[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            detail = f" ({where + ': ' if where else ''}{first.get('msg', '')})"
    raise ParameterError(
        f"Invalid value for {name!r}: {value!r} is not a valid {type_name(type_)}{detail}. "
        f"Give a value like {_example(type_)}.{_yaml_hint(value, type_)}",
        name,
    ) from None


def _yaml_hint(value: Any, type_: Any) -> str:
    """Why a text parameter got a boolean or a date from a YAML file, and what to write instead."""
    import datetime

    if not isinstance(value, (bool, datetime.date)) or not _wants_text(type_):
        return ""
    return (
        " YAML reads unquoted yes/no/on/off/true/false as booleans and 2026-01-01 as a date: "
        "quote the value in the file ('no', '2026-01-01') to keep it as text."
    )


def _wants_text(type_: Any) -> bool:
    """Whether ``type_`` takes text that YAML would not keep: ``str``, a ``Literal`` with a word such
    as ``"on"`` or a date, or a union holding one."""
    origin = typing.get_origin(type_)
    if origin in (typing.Union, types.UnionType):
        return any(_wants_text(a) for a in typing.get_args(type_))
    if origin is typing.Literal:
        words = _TRUE | _FALSE
        return any(isinstance(a, str) and (a.lower() in words or a[:1].isdigit()) for a in typing.get_args(type_))
    return isinstance(type_, type) and issubclass(type_, str)


def format_value(value: Any) -> str:
    """Write a value as text that :func:`coerce` (or :func:`parse_text`) reads back to an equal value.

    Strings are written as they are (they are only read back correctly for a ``str``-typed
    parameter); booleans as ``true``/``false``; containers as Python literals.

    Example:
        >>> format_value(True), format_value(0.1), format_value([1, "a"]), format_value("adam")
        ('true', '0.1', "[1, 'a']", 'adam')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'inf', '-inf', 'nan' (pydantic reads these for floats)
    if isinstance(value, enum.Enum):
        return format_value(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="python")
    if _has_nonfinite(value):  # Python literals cannot write inf/nan; JSON (Infinity, NaN) can
        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            pass
    return repr(value)


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nonfinite(v) for v in value)
    return False
