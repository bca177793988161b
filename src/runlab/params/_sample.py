"""Sweeps from the command line and random sampling.

``--sweep NAME=v1,v2,...`` and sweep text in an override (``-p "lr=logspace(-4,-1,4)"``) make
axes; :func:`sweep_argv` turns them into one override list per run (grid, zip or random). Random
sampling also understands continuous ranges: ``uniform(a, b)``, ``loguniform(a, b)`` and
``randint(a, b)`` (both ends included).

Values from the command line stay text until the experiment's parameters read them (with their
annotated types), so ``--sweep BS=16,32`` gives ints for an ``int`` parameter.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._valueclass import value_class
from ._errors import ConfigError
from ._sweep import MAX_SWEEP_RUNS, Sweep, _check_values, _short, check_sweep_size, literal_call, parse_sweep

if TYPE_CHECKING:
    import random

__all__ = ["Distribution", "SampleMode", "loguniform", "parse_axis", "randint", "sample", "sweep_argv", "uniform"]

SampleMode = Literal["grid", "zip", "random"]
_PAIR_OPTIONS = ("-p", "--param", "--set")
_SWEEP_FORMS = (
    "choice(a, b, ...), range(start, stop, step), linspace(start, stop, num), "
    "logspace(start_exp, stop_exp, num), uniform(low, high), loguniform(low, high), randint(low, high)"
)


@value_class(frozen=True)
class Distribution:
    """A continuous (or integer) range that random sampling draws from.

    Attributes:
        kind: ``"uniform"``, ``"loguniform"`` or ``"randint"``.
        low, high: the bounds, both included.

    Example:
        >>> import random
        >>> d = uniform(0, 1)
        >>> 0 <= d.draw(random.Random(0)) <= 1
        True
    """

    kind: Literal["uniform", "loguniform", "randint"]
    low: float
    high: float

    def __post_init__(self) -> None:
        if not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in (self.low, self.high)):
            raise ConfigError(f"Invalid {self!r}: the bounds must be numbers.")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise ConfigError(f"Invalid {self!r}: needs finite bounds with low <= high.")
        if self.kind == "loguniform" and self.low <= 0:
            raise ConfigError(f"Invalid {self!r}: loguniform needs low > 0. Use uniform for ranges that include 0.")
        if self.kind == "randint" and not all(isinstance(b, int) for b in (self.low, self.high)):
            raise ConfigError(f"Invalid {self!r}: randint needs whole-number bounds. Use uniform for decimals.")

    def __repr__(self) -> str:
        return f"{self.kind}({self.low}, {self.high})"

    def draw(self, rng: random.Random) -> Any:
        """One value drawn with ``rng``."""
        if self.kind == "randint":
            return rng.randint(int(self.low), int(self.high))
        if self.kind == "loguniform":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return min(max(float(f"{value:.12g}"), self.low), self.high)


def uniform(low: float, high: float) -> Distribution:
    """Real numbers drawn evenly from ``[low, high]`` (random sampling only)."""
    return Distribution("uniform", low, high)


def loguniform(low: float, high: float) -> Distribution:
    """Positive numbers drawn evenly on a log scale from ``[low, high]`` (random sampling only)."""
    return Distribution("loguniform", low, high)


def randint(low: int, high: int) -> Distribution:
    """Whole numbers drawn from ``low`` to ``high``, both included (random sampling only)."""
    return Distribution("randint", low, high)


_DISTRIBUTIONS = {"uniform": uniform, "loguniform": loguniform, "randint": randint}
_CLOSING = {"(": ")", "[": "]", "{": "}"}
_DIST_TEXT = re.compile(r"^\s*(uniform|loguniform|randint)\s*\(")

Axis = Sweep | Distribution


def parse_axis(text: str) -> Axis | None:
    """Read sweep text (``"choice(1, 2)"``, ``"uniform(0, 1)"`` ...), or ``None`` for a plain value.

    Raises:
        ConfigError: the text looks like a sweep or range but is malformed.

    Example:
        >>> parse_axis("loguniform(1e-4, 1e-1)"), list(parse_axis("range(3)")), parse_axis("0.1")
        (loguniform(0.0001, 0.1), [0, 1, 2], None)
    """
    match = _DIST_TEXT.match(text)
    if not match:
        return parse_sweep(text)
    args, kwargs = literal_call(text)
    if kwargs or len(args) != 2:
        got = f"{len(args)}" + (f" and the keywords {', '.join(kwargs)}" if kwargs else "")
        raise ConfigError(f"Invalid range {_short(text.strip(), 80)!r}: takes 2 bounds, got {got}. "
                          f"Forms: {_SWEEP_FORMS}.")  # fmt: skip
    result: Distribution = _DISTRIBUTIONS[match.group(1)](*args)
    return result


def sample(axes: Mapping[str, Axis | Sequence[Any]], n: int, seed: int | None = None) -> list[dict[str, Any]]:
    """``n`` random combinations: each axis draws independently (choices evenly, ranges by their kind).

    The same ``seed`` gives the same combinations.

    Raises:
        ConfigError: ``n`` is not a whole number >= 1, or an axis has no values.

    Example:
        >>> combos = sample({"lr": loguniform(1e-4, 1e-1), "bs": [16, 32]}, 3, seed=1)
        >>> len(combos), all(c["bs"] in (16, 32) and 1e-4 <= c["lr"] <= 0.1 for c in combos)
        (3, True)
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"Invalid number of samples {n!r}: give a whole number >= 1, e.g. --samples 20.")
    if n > MAX_SWEEP_RUNS:
        raise ConfigError(f"Too many samples: {n:,} is more than the limit of {MAX_SWEEP_RUNS:,} runs per sweep. "
                          f"Draw at most {MAX_SWEEP_RUNS:,} per sweep; for more, run several sweeps with "
                          "different --seed values.")  # fmt: skip
    import random  # here: a plain run never samples

    rng = random.Random(seed)
    table: dict[str, Distribution | list[Any]] = {}
    for name, axis in axes.items():
        table[name] = axis if isinstance(axis, Distribution) else list(axis)
        if not isinstance(axis, Distribution) and not table[name]:
            raise ConfigError(f"Empty sweep for {name!r}: it has no values. Give at least one alternative.")
    out = []
    for _ in range(n):
        combo = {}
        for name, axis in table.items():
            combo[name] = axis.draw(rng) if isinstance(axis, Distribution) else rng.choice(axis)
        out.append(combo)
    return out


def _split_values(name: str, text: str) -> list[str]:
    """``"a,b,[1, 2],'x,y'"`` → the top-level comma-separated items (brackets and quotes kept whole)."""
    items: list[str] = []
    opened: list[str] = []  # the brackets open at this point
    quote, quote_at, start = "", 0, 0
    problem = ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote, quote_at = ch, i
        elif ch in "([{":
            opened.append(ch)
        elif ch in ")]}":
            if not opened or _CLOSING[opened[-1]] != ch:
                problem = f"the {ch!r} at position {i + 1} closes no bracket"
                break
            opened.pop()
        elif ch == "," and not opened:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    if not problem and quote:
        problem = f"the quote {quote} at position {quote_at + 1} is not closed"
    elif not problem and opened:
        problem = f"the {opened[-1]!r} is not closed"
    elif not problem and any(not item for item in items):
        problem = "it has an empty value"
    if problem:
        raise ConfigError(
            f"Invalid --sweep value for {name!r}: {_short(text, 80)!r}: {problem}. Write NAME=v1,v2,... with "
            "balanced quotes and brackets and no empty values, e.g. --sweep LR=0.1,0.01 or "
            "--sweep \"OPT='a,b',c\", or a sweep such as NAME='logspace(-4, -1, 4)'."
        )
    _check_values(f"for {name!r}", len(items))
    return [item[1:-1] if len(item) > 1 and item[0] == item[-1] and item[0] in "'\"" else item for item in items]


def _sweep_option(text: str) -> tuple[str, Axis | list[str]]:
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise ConfigError(f"Invalid --sweep {text!r}: write NAME=v1,v2,... e.g. --sweep LR=0.1,0.01 "
                          "or --sweep 'LR=logspace(-4, -1, 4)'.")  # fmt: skip
    axis = parse_axis(values)
    return name.strip(), axis if axis is not None else _split_values(name.strip(), values)


def _text(value: Any) -> str:
    from ._coerce import format_value

    return format_value(value)


def sweep_argv(
    argv: Sequence[str],
    sweeps: Sequence[str] = (),
    mode: SampleMode = "grid",
    samples: int | None = None,
    seed: int | None = None,
) -> list[list[str]]:
    """One override list per run: the swept overrides in ``argv`` and ``sweeps`` expanded.

    An override whose value is sweep text (``-p "LR=logspace(-4, -1, 4)"``, ``--LR=choice(1, 2)``)
    becomes an axis, as does each ``--sweep NAME=v1,v2``. Plain overrides are kept in every list;
    swept ones are written ``-p NAME=VALUE`` after them. Without axes the result is ``[argv]``.

    Args:
        argv: override arguments (``--NAME=V``, ``-p NAME=V``, ``--set a.b=V``).
        sweeps: ``NAME=v1,v2,...`` texts (or ``NAME=<sweep text>``).
        mode: ``"grid"`` (every combination), ``"zip"`` (i-th values together) or ``"random"``.
        samples: random mode's number of runs (giving it selects random mode).
        seed: random mode's seed (the same seed gives the same runs).

    Raises:
        ConfigError: a malformed sweep, a range outside random mode, zip lengths that differ, or
            a bad number of samples.

    Example:
        >>> sweep_argv(["--EPOCHS=2"], ["LR=0.1,0.01"])
        [['--EPOCHS=2', '-p', 'LR=0.1'], ['--EPOCHS=2', '-p', 'LR=0.01']]
    """
    from ._overrides import _tokens

    if samples is not None:
        mode = "random"
    if mode not in ("grid", "zip", "random"):
        raise ConfigError(f"Unknown sweep mode {mode!r}; use 'grid', 'zip' or 'random'.")
    axes: dict[str, Axis | list[str]] = {}
    given: dict[str, str] = {}  # each swept name: how it was written, for messages
    plain: list[str] = []
    fixed: list[tuple[str, str]] = []  # the plain overrides' names, as written
    i = 0
    while i < len(argv):  # keep plain arguments as given; lift swept ones out
        token = argv[i]
        width = 2 if token in _PAIR_OPTIONS and i + 1 < len(argv) else 1
        if token.startswith("--") and "=" not in token and token not in _PAIR_OPTIONS and i + 1 < len(argv):
            width = 1 if argv[i + 1].startswith("--") else 2
        chunk = list(argv[i : i + width])
        i += width
        pairs = _tokens(chunk) if chunk[0].startswith("-") and chunk[0] != "--allow-new" else []
        axis = parse_axis(pairs[0][1]) if len(pairs) == 1 else None
        if axis is None:
            plain += chunk
            fixed += [(name, " ".join(chunk)) for name, _ in pairs]
        else:
            _add_axis(axes, given, pairs[0][0], axis, " ".join(chunk))
    for text in sweeps:
        name, option = _sweep_option(text)
        _add_axis(axes, given, name, option, f"--sweep {text}")
    for name, written in fixed:
        _check_not_swept(name, written, given)
    if not axes:
        if samples is not None:
            raise ConfigError("--samples needs something to sample: add --sweep NAME=v1,v2 or -p 'NAME=uniform(0, 1)'.")
        return [list(argv)]
    combos = _combine(axes, mode, samples, seed)
    return [plain + [a for name, value in combo.items() for a in ("-p", f"{name}={_text(value)}")] for combo in combos]


def _add_axis(axes: dict[str, Axis | list[str]], given: dict[str, str], name: str, axis: Axis | list[str],
              written: str) -> None:  # fmt: skip
    """Add a swept parameter; refuse one swept twice, or swept inside another swept one (one would be lost)."""
    for other, how in given.items():
        if other == name:
            raise ConfigError(f"Parameter {name!r} is swept twice ({_short(how, 80)} and {_short(written, 80)}): "
                              f"sweep each parameter once, with all its values in one --sweep {name}=v1,v2,... "
                              "or one sweep text.")  # fmt: skip
        if name.startswith(other + ".") or other.startswith(name + "."):
            outer, inner = sorted((name, other), key=len)
            raise ConfigError(f"{inner!r} is swept inside {outer!r}, which is swept too ({_short(how, 80)} and "
                              f"{_short(written, 80)}): one would replace the other's values. Sweep only one of "
                              "them.")  # fmt: skip
    axes[name] = axis
    given[name] = written


def _check_not_swept(name: str, written: str, given: Mapping[str, str]) -> None:
    """Refuse a plain override that a sweep would silently replace (the same name, or inside a swept one)."""
    for swept, how in given.items():
        if name == swept:
            raise ConfigError(f"Parameter {name!r} is both set ({_short(written, 80)}) and swept "
                              f"({_short(how, 80)}): the swept values would replace it. Give it once: drop "
                              f"{_short(written, 80)}, or add its value to the sweep.")  # fmt: skip
        if name.startswith(swept + "."):
            raise ConfigError(f"{name!r} is set ({_short(written, 80)}) inside {swept!r}, which is swept "
                              f"({_short(how, 80)}): the swept values would replace it. Write it into the "
                              f"swept values of {swept!r} instead.")  # fmt: skip


def _combine(axes: Mapping[str, Axis | list[str]], mode: SampleMode, samples: int | None,
             seed: int | None) -> list[dict[str, Any]]:  # fmt: skip
    if mode == "random":
        if samples is None:
            raise ConfigError("Random sweep mode needs a number of runs: add --samples N (and --seed S to repeat it).")
        return sample(axes, samples, seed)
    ranges = [f"{name}={axis!r}" for name, axis in axes.items() if isinstance(axis, Distribution)]
    if ranges:
        raise ConfigError(f"{ranges[0]} is a range to sample from, not a list of values: add --samples N "
                          "(random sampling), or use linspace/logspace/choice for a grid.")  # fmt: skip
    names = list(axes)
    values = [list(axis) for axis in axes.values() if not isinstance(axis, Distribution)]
    lengths = {name: len(v) for name, v in zip(names, values, strict=True)}
    if mode == "zip":
        if len(set(lengths.values())) > 1:
            raise ConfigError(f"Zip sweep needs lists of equal length, got {lengths}. "
                              "Make them the same length or use grid mode.")  # fmt: skip
        return [dict(zip(names, combo, strict=True)) for combo in zip(*values, strict=True)]
    check_sweep_size(lengths)  # counted before the combinations exist
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
