"""Sweeps: values with alternatives, the helpers that make them, and expansion into many configs."""

from __future__ import annotations

import ast
import copy
import itertools
import math
import re
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from typing import Any, Literal, TypeVar

from .._valueclass import value_class
from ._errors import ConfigError

__all__ = [
    "MAX_SWEEP_RUNS",
    "Sweep",
    "choice",
    "expand",
    "expand_model",
    "grid",
    "linspace",
    "logspace",
    "parse_sweep",
    "check_sweep_size",
    "range_",
    "zipped",
]

SweepMode = Literal["grid", "zip"]
T = TypeVar("T")

MAX_SWEEP_RUNS = 100_000
"""The most runs one sweep may make, and so the most values one swept parameter may have.

Sizes are counted before anything is built (``range(0, 10**9)`` is refused without making a
list), so a typo cannot fill the memory; split a bigger sweep into several commands.
"""


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _check_values(label: str, count: int) -> None:
    """Refuse an axis of more than :data:`MAX_SWEEP_RUNS` values (``count`` known before the values exist)."""
    if count > MAX_SWEEP_RUNS:
        raise ConfigError(f"Sweep {_short(label)} has {count:,} values, more than the limit of {MAX_SWEEP_RUNS:,} "
                          f"runs per sweep: split it into sweeps of at most {MAX_SWEEP_RUNS:,} values (one command "
                          "each), or draw some with --samples N and uniform(low, high) or randint(low, high)."
                          )  # fmt: skip


def check_sweep_size(sizes: Mapping[str, int], split: str = "") -> int:
    """The number of runs of a grid over parts of ``sizes``; refused past :data:`MAX_SWEEP_RUNS`.

    Args:
        sizes: how many values each part has (the grid multiplies them), e.g. ``{"lr": 4, "bs": 2}``.
        split: how to split a sweep that is too big (default: one command per value of the first part).

    Raises:
        ConfigError: the sweep would make more than :data:`MAX_SWEEP_RUNS` runs (nothing is built).

    Example:
        >>> check_sweep_size({"lr": 4, "bs": 2})
        8
    """
    count = math.prod(sizes.values())
    if count > MAX_SWEEP_RUNS:
        parts = " x ".join(f"{name}: {n:,}" for name, n in sizes.items())
        split = split or f"one command per value of {next(iter(sizes), '')!r}"
        raise ConfigError(f"The sweep makes {count:,} runs ({parts}), more than the limit of {MAX_SWEEP_RUNS:,} "
                          f"runs per sweep: split it into several sweeps (e.g. {split}), or draw some of them "
                          "with --samples N.")  # fmt: skip
    return count


@value_class(frozen=True)
class Sweep:
    """A parameter value with several alternatives; :func:`expand` makes one config per alternative.

    Made by :func:`choice`, :func:`range_`, :func:`linspace`, :func:`logspace`, or from text by
    :func:`parse_sweep`. Iterating gives the alternatives.

    Attributes:
        values: the alternatives, in order.
        label: how the sweep was written, e.g. ``"logspace(-4, -1, 4)"``.
    """

    values: tuple[Any, ...]
    label: str = ""

    def __post_init__(self) -> None:
        if not self.values:
            raise ConfigError(f"Empty sweep{' ' + _short(self.label) if self.label else ''}: it has no values. "
                              "Give at least one alternative.")  # fmt: skip
        _check_values(self.label or "choice(...)", len(self.values))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return self.label or f"choice({', '.join(repr(v) for v in self.values)})"


def _round(values: Sequence[float]) -> tuple[float, ...]:
    """Round away binary noise (0.30000000000000004 → 0.3): 12 significant digits.

    A value is rounded only where that moves it by less than a billionth of the gap to its
    neighbours, so close values (``linspace(1e12, 1e12 + 10, 11)``) stay apart and exact.
    """
    out = []
    for i, value in enumerate(values):
        rounded = float(f"{value:.12g}")
        gaps = [abs(value - values[j]) for j in (i - 1, i + 1) if 0 <= j < len(values) and values[j] != value]
        out.append(rounded if abs(rounded - value) <= 1e-9 * min(gaps, default=abs(value)) else value)
    return tuple(out)


def choice(*values: Any) -> Sweep:
    """Alternatives given one by one: ``choice("adam", "sgd")``.

    One list or tuple alone is the alternatives (``choice([16, 32])`` is ``choice(16, 32)``); lists
    as values are given one by one (``choice([64, 64], [128])``), or wrapped (``choice([[64, 64]])``).

    Example:
        >>> list(choice(16, 32, 64)), list(choice([16, 32])), list(choice([64, 64], [128]))
        ([16, 32, 64], [16, 32], [[64, 64], [128]])
    """
    if len(values) == 1 and isinstance(values[0], (list, tuple)):
        values = tuple(values[0])
    return Sweep(tuple(values), f"choice({', '.join(repr(v) for v in values)})")


def range_(start: int, stop: int | None = None, step: int = 1) -> Sweep:
    """Whole numbers like Python's ``range``: ``range_(1, 10, 3)`` is 1, 4, 7 (in YAML: ``"range(1, 10, 3)"``).

    Raises:
        ConfigError: a bound is not a whole number, the step is 0, or the range is empty.

    Example:
        >>> list(range_(3)), list(range_(1, 10, 3))
        ([0, 1, 2], [1, 4, 7])
    """
    label = f"range({start}{'' if stop is None else f', {stop}'}{'' if step == 1 else f', {step}'})"
    bounds = (start, 0 if stop is None else stop, step)
    if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) or step == 0:
        raise ConfigError(f"Invalid {label}: start, stop and step must be whole numbers and step not 0. "
                          "Use linspace(start, stop, num) for decimals.")  # fmt: skip
    begin, end = (start, stop) if stop is not None else (0, start)
    _check_values(label, _range_len(begin, end, step))
    return Sweep(tuple(range(begin, end, step)), label)


def _range_len(start: int, stop: int, step: int) -> int:
    """``len(range(start, stop, step))`` for any size (``len`` overflows past ``sys.maxsize``)."""
    if step > 0:
        return max(0, (stop - start + step - 1) // step)
    return max(0, (start - stop - step - 1) // -step)


def _check_space(label: str, start: Any, stop: Any, num: Any) -> None:
    """The checks linspace and logspace share: numeric finite bounds and a whole ``num`` within the cap."""
    if not isinstance(num, int) or isinstance(num, bool) or num < 0:
        raise ConfigError(f"Invalid {label}: num must be a whole number >= 1.")
    if not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in (start, stop)):
        raise ConfigError(f"Invalid {label}: start and stop must be finite numbers.")
    _check_values(label, num)


def linspace(start: float, stop: float, num: int) -> Sweep:
    """``num`` evenly spaced numbers from ``start`` to ``stop`` inclusive.

    Example:
        >>> list(linspace(0, 1, 5))
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    label = f"linspace({start}, {stop}, {num})"
    _check_space(label, start, stop, num)
    if num < 2:  # 0: an empty sweep, refused by Sweep
        return Sweep((float(start),) * num, label)
    step = (stop - start) / (num - 1)
    if math.isfinite(step):
        raw = [start + i * step for i in range(num)]
    else:  # stop - start is past the largest float (linspace(-1e308, 1e308, 3))
        raw = [start * (1 - i / (num - 1)) + stop * (i / (num - 1)) for i in range(num)]
    inner = _round(raw)[1:-1]
    return Sweep((float(start), *inner, float(stop)), label)


def logspace(start: float, stop: float, num: int, base: float = 10.0) -> Sweep:
    """``num`` numbers evenly spaced on a log scale, from ``base**start`` to ``base**stop``.

    Example:
        >>> list(logspace(-4, -1, 4))
        [0.0001, 0.001, 0.01, 0.1]
    """
    label = f"logspace({start}, {stop}, {num}{'' if base == 10 else f', base={base}'})"
    _check_space(label, start, stop, num)
    if not isinstance(base, (int, float)) or isinstance(base, bool) or not (math.isfinite(base) and base > 0):
        raise ConfigError(f"Invalid {label}: base must be a finite number > 0.")
    exponents = linspace(start, stop, num) if num else Sweep((), label)
    try:
        values = [math.pow(base, e) for e in exponents]
    except OverflowError:
        values = [math.inf]
    if any(v == 0.0 or math.isinf(v) for v in values):  # past the largest float, or below the smallest (0.0)
        raise ConfigError(f"Invalid {label}: {base:g} to the power {start} or {stop} does not fit in a float. "
                          "Use exponents that keep the values between about 5e-324 and 1.8e308 (for base 10: "
                          "-323 to 308).")  # fmt: skip
    return Sweep(_round(values), label)


_HELPERS: dict[str, Any] = {"choice": choice, "range": range_, "linspace": linspace, "logspace": logspace}
_SWEEP_TEXT = re.compile(r"^\s*(choice|range|linspace|logspace)\s*\(")


def parse_sweep(text: str) -> Sweep | None:
    """Read a sweep written as text (``"logspace(-4, -1, 4)"``), or ``None`` for ordinary text.

    Only the calls ``choice``, ``range``, ``linspace`` and ``logspace`` with literal arguments are
    understood; nothing is evaluated.

    Raises:
        ConfigError: the text looks like a sweep but its arguments are not valid.

    Example:
        >>> list(parse_sweep("choice('adam', 'sgd')")), parse_sweep("adam")
        (['adam', 'sgd'], None)
    """
    match = _SWEEP_TEXT.match(text)
    if not match:
        return None
    helper = match.group(1)
    args, kwargs = literal_call(text)
    try:
        result: Sweep = _HELPERS[helper](*args, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"Invalid sweep {text.strip()!r}: {exc}. "
                          "Forms: choice(a, b, ...), range(start, stop, step), linspace(start, stop, num), "
                          "logspace(start_exp, stop_exp, num).") from None  # fmt: skip
    return result


def literal_call(text: str) -> tuple[list[Any], dict[str, Any]]:
    """The literal arguments of the single call ``text`` (``"f(1, 'a', k=2)"``); nothing is evaluated.

    Raises:
        ConfigError: the text is not one call, or an argument is not a literal value (the message
            quotes that argument as written).
    """
    source = text.strip()
    shown = _short(source, 80)
    try:
        node = ast.parse(source, mode="eval").body
    except (SyntaxError, MemoryError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, SyntaxError) else "nested too deeply"
        raise ConfigError(f"Invalid sweep {shown!r}: it does not parse ({reason}). "
                          "Write e.g. 'logspace(-4, -1, 4)' or \"choice('adam', 'sgd')\".") from None  # fmt: skip
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ConfigError(f"Invalid sweep {shown!r}: write a single call such as 'logspace(-4, -1, 4)' "
                          "or \"choice('adam', 'sgd')\".")  # fmt: skip
    if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
        raise ConfigError(f"Invalid sweep {shown!r}: * and ** arguments are not allowed; write the values out.")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for arg in [*node.args, *node.keywords]:
        value_node = arg.value if isinstance(arg, ast.keyword) else arg
        try:
            value = ast.literal_eval(value_node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            written = ast.get_source_segment(source, value_node) or "?"
            raise ConfigError(f"Invalid sweep {shown!r}: argument {_short(written)!r} is not a literal value "
                              "(nothing is evaluated). Write plain numbers, strings or lists, e.g. 1000000 "
                              "rather than 10**6.") from None  # fmt: skip
        _check_floats(value_node, source, shown)
        if isinstance(arg, ast.keyword):
            kwargs[str(arg.arg)] = value
        else:
            args.append(value)
    return args, kwargs


def _check_floats(node: ast.AST, source: str, shown: str) -> None:
    """Refuse a number in sweep text that a float cannot hold (``1e400`` would become ``inf``, ``1e-400`` 0.0)."""
    from ._coerce import fits_float

    for item in ast.walk(node):
        if isinstance(item, ast.Constant) and type(item.value) is float:
            written = ast.get_source_segment(source, item) or repr(item.value)
            if not fits_float(written, item.value):
                raise ConfigError(f"Invalid sweep {shown!r}: the number {_short(written)} does not fit in a float "
                                  f"(it would become {item.value!r}); write a number between about 5e-324 and "
                                  "1.8e308 in size, or 0.")  # fmt: skip


def _axes(mapping: Mapping[str, Any]) -> dict[str, list[Any]]:
    axes: dict[str, list[Any]] = {}
    for name, values in mapping.items():
        if isinstance(values, str):
            sweep = parse_sweep(values)
            if sweep is None:
                raise ConfigError(f"Sweep values for {name!r} must be a list or a sweep such as "
                                  f"'choice(1, 2)', got the text {values!r}.")  # fmt: skip
            values = sweep
        if not isinstance(values, Iterable) or isinstance(values, Mapping):
            raise ConfigError(f"Sweep values for {name!r} must be a list, got {type(values).__name__} {values!r}.")
        if isinstance(values, Sized):  # counted before it is copied: grid(x=range(10**9)) builds nothing
            count = _range_len(values.start, values.stop, values.step) if isinstance(values, range) else len(values)
            _check_values(f"{name}={_short(repr(values))}", count)
            axes[name] = list(values)
        else:  # a generator: take one value past the limit at most
            axes[name] = list(itertools.islice(values, MAX_SWEEP_RUNS + 1))
            _check_values(f"{name}=<{type(values).__name__}>", len(axes[name]))
        if not axes[name]:
            raise ConfigError(f"Empty sweep for {name!r}: it has no values. Give at least one alternative.")
    return axes


def grid(axes: Mapping[str, Iterable[Any]] | None = None, **more: Iterable[Any]) -> list[dict[str, Any]]:
    """Every combination of the alternatives (the Cartesian product), first axis slowest.

    Example:
        >>> grid(lr=[0.1, 0.01], bs=[16, 32])
        [{'lr': 0.1, 'bs': 16}, {'lr': 0.1, 'bs': 32}, {'lr': 0.01, 'bs': 16}, {'lr': 0.01, 'bs': 32}]
    """
    table = _axes({**(axes or {}), **more})
    check_sweep_size({name: len(values) for name, values in table.items()})
    names = list(table)
    return [dict(zip(names, combo, strict=False)) for combo in itertools.product(*table.values())]


def zipped(axes: Mapping[str, Iterable[Any]] | None = None, **more: Iterable[Any]) -> list[dict[str, Any]]:
    """The i-th alternatives of every axis together; all axes must have the same length.

    Raises:
        ConfigError: the axes have different lengths.

    Example:
        >>> zipped(lr=[0.1, 0.01], bs=[16, 32])
        [{'lr': 0.1, 'bs': 16}, {'lr': 0.01, 'bs': 32}]
    """
    table = _axes({**(axes or {}), **more})
    lengths = {name: len(v) for name, v in table.items()}
    if len(set(lengths.values())) > 1:
        raise ConfigError(f"Zip sweep needs lists of equal length, got {lengths}. "
                          "Make them the same length or use grid mode.")  # fmt: skip
    names = list(table)
    return [dict(zip(names, combo, strict=False)) for combo in zip(*table.values(), strict=False)]


def _find_sweeps(value: Any, prefix: str, parse_strings: bool, found: dict[str, Sweep]) -> None:
    if isinstance(value, Sweep):
        found[prefix] = value
    elif isinstance(value, str) and parse_strings:
        sweep = parse_sweep(value)
        if sweep is not None:
            found[prefix] = sweep
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _find_sweeps(item, f"{prefix}.{key}" if prefix else str(key), parse_strings, found)
    elif isinstance(value, list):  # a list is a value: only Sweep objects inside it (sweep: {L.0: [..]}) expand
        for i, item in enumerate(value):
            _find_sweeps(item, f"{prefix}.{i}", False, found)


def _expand_mapping(data: Mapping[str, Any], mode: SweepMode, parse_strings: bool) -> list[dict[str, Any]]:
    from ._overrides import set_dotted

    found: dict[str, Sweep] = {}
    _find_sweeps(data, "", parse_strings, found)
    if not found:
        return [copy.deepcopy(dict(data))]
    combos = grid(found) if mode == "grid" else zipped(found)
    result = []
    for combo in combos:
        variant = copy.deepcopy(dict(data))
        for dotted, value in combo.items():
            set_dotted(variant, dotted, value)
        result.append(variant)
    return result


def expand(config: Any, mode: SweepMode = "grid", parse_strings: bool = False) -> list[Any]:
    """One concrete config per combination of the sweeps inside ``config``.

    Sweeps are :class:`Sweep` values (from :func:`choice`, :func:`range_`, ...) anywhere in nested
    dicts, and with ``parse_strings`` also text such as ``"logspace(-4, -1, 4)"`` (config files use
    this). Plain lists are values, not sweeps. For a :class:`Config`, ``globals_dict`` and ``kwargs``
    are expanded together and each result's metadata records the swept values under
    ``"sweep_values"`` (dotted names).
    A config without sweeps gives a list of one copy.

    Args:
        config: a :class:`Config` or a dict.
        mode: ``"grid"`` (every combination) or ``"zip"`` (the i-th values together).
        parse_strings: also read sweep helper text.

    Raises:
        ConfigError: an empty sweep, a malformed sweep text, or zip lengths that differ.

    Example:
        >>> [c["LR"] for c in expand({"LR": logspace(-3, -1, 3), "BS": 32})]
        [0.001, 0.01, 0.1]
    """
    from ._config import Config

    if mode not in ("grid", "zip"):
        raise ConfigError(f"Unknown sweep mode {mode!r}; use 'grid' or 'zip'.")
    if isinstance(config, Config):
        merged = {"globals": config.globals_dict, "kwargs": config.kwargs}
        found: dict[str, Sweep] = {}
        _find_sweeps(merged, "", parse_strings, found)
        if mode == "grid":  # named as the user wrote them (LR, not globals.LR)
            check_sweep_size({k.removeprefix("globals."): len(v) for k, v in found.items()})
        variants = _expand_mapping(merged, mode, parse_strings)
        out = []
        for variant in variants:
            metadata = copy.deepcopy(config.metadata)
            if found:
                from ._overrides import get_dotted

                swept = {k.partition(".")[2]: get_dotted(variant, k.split(".")) for k in found}
                metadata["sweep_values"] = swept
            out.append(Config(variant["globals"], list(config.args), variant["kwargs"], metadata))
        return out
    if not isinstance(config, Mapping):
        raise ConfigError(f"Cannot expand {type(config).__name__} {config!r}: give a Config or a dict.")
    return _expand_mapping(config, mode, parse_strings)


def _alternatives(annotation: Any, value: Any) -> list[Any] | None:
    """The alternatives ``value`` stands for in a field of type ``annotation``, or None for a plain value."""
    from ._coerce import _accepts

    if isinstance(value, Sweep):
        return list(value)
    if isinstance(value, str):
        sweep = parse_sweep(value)
        return list(sweep) if sweep is not None else None
    model = _model_type(annotation)
    if model is not None and isinstance(value, Mapping):
        variants = expand_model(model, value, validate=False)
        return variants if len(variants) > 1 else None
    if isinstance(value, (list, tuple)):
        if not _accepts(annotation, (list, tuple, set, frozenset)):
            if not value:
                raise ConfigError("Empty sweep: a list of alternatives has no values. Give at least one.")
            return list(value)
        if value and all(isinstance(v, (list, tuple)) for v in value):
            return list(value)
    return None


def _model_type(annotation: Any) -> Any:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and hasattr(candidate, "model_fields"):
            return candidate
    return None


def expand_model(model: type[T], data: Mapping[str, Any], mode: SweepMode = "grid",
                 validate: bool = True) -> list[Any]:  # fmt: skip
    """Expand field alternatives of a pydantic model into validated model instances.

    A field's value is a list of alternatives when the field's type is not a list (``lr: float``
    given ``[0.1, 0.01]``), when it is a list of lists for a list-typed field, a :class:`Sweep`, or
    sweep text. Nested model fields given dicts expand too. Each variant is validated by the model.

    Args:
        model: a pydantic ``BaseModel`` subclass.
        data: field values, some of them alternatives.
        mode: ``"grid"`` or ``"zip"``.
        validate: return model instances (True) or plain dicts (False).

    Raises:
        ConfigError: a variant fails validation (the message names the variant and the field).

    Example:
        >>> from pydantic import BaseModel
        >>> class Opt(BaseModel):
        ...     lr: float
        ...     layers: list[int] = [64]
        >>> [(o.lr, o.layers) for o in expand_model(Opt, {"lr": [0.1, 0.01], "layers": [[8], [16, 16]]})]
        [(0.1, [8]), (0.1, [16, 16]), (0.01, [8]), (0.01, [16, 16])]
    """
    fields: Mapping[str, Any] = getattr(model, "model_fields", {})
    axes: dict[str, list[Any]] = {}
    for name, value in data.items():
        info = fields.get(name)
        alternatives = _alternatives(info.annotation if info is not None else Any, value)
        if alternatives is not None:
            axes[name] = alternatives
    combos = (grid(axes) if mode == "grid" else zipped(axes)) if axes else [{}]
    variants = [{**dict(data), **combo} for combo in combos]
    if not validate:
        return variants
    from pydantic import ValidationError

    result = []
    for i, variant in enumerate(variants):
        try:
            result.append(model.model_validate(variant))  # type: ignore[attr-defined]
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ConfigError(f"Variant {i + 1} of {model.__name__} is invalid: {where}: {first.get('msg')} "
                              f"(input {first.get('input')!r}). Variant: {variant!r}.") from None  # fmt: skip
    return result


def sweep_values(values: Sequence[Any]) -> Sweep:
    """A :class:`Sweep` from a list of alternatives (used for file configs' ``sweep`` section)."""
    return Sweep(tuple(values), f"choice({', '.join(repr(v) for v in values)})")
