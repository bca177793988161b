"""Search spaces of studies: parsed once where they enter, then typed :class:`Dimension` values.

A search space comes from one of three places:

- the command line: ``--search "LR=float(1e-5,1e-1,log)"``, ``--search "LAYERS=int(1,4)"``,
  ``--search "OPT=choice(adam,sgd)"`` (``float(low,high,step=0.1)`` and ``int(low,high,step=2)``
  take a step; ``int(1,1024,log)`` a log scale);
- a config file's ``search:`` key: ``{LR: {float: [1e-5, 1e-1], log: true}, LAYERS: {int: [1, 4]},
  OPT: {choice: [adam, sgd]}}``;
- the experiment: ``@experiment.search_space`` on ``def space(e, trial): return {...}``
  (define-by-run: it calls ``trial.suggest_*`` itself).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._valueclass import value_class
from ..errors import UsageError

__all__ = ["Dimension", "SearchSpaceError", "parse_search", "parse_search_mapping", "suggest"]

_KINDS = ("float", "int", "choice")
_TEXT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*=\s*(float|int|choice)\s*\((.*)\)\s*$", re.S)
_HELP = "e.g. --search 'LR=float(1e-5,1e-1,log)', 'LAYERS=int(1,4)' or 'OPT=choice(adam,sgd)'"


class SearchSpaceError(UsageError, ValueError):
    """A malformed search space entry (``--search`` text or a config's ``search:`` key)."""


@value_class(frozen=True)
class Dimension:
    """One searched parameter: ``kind`` float, int or choice, with its range or choices.

    Example:
        >>> Dimension("LR", "float", 1e-5, 0.1, log=True).describe()
        'float(1e-05, 0.1, log)'
    """

    name: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    def describe(self) -> str:
        """The dimension as ``--search`` text (without the name)."""
        if self.kind == "choice":
            return f"choice({', '.join(map(repr, self.choices))})"
        extra = ", log" if self.log else f", step={self.step!r}" if self.step is not None else ""
        return f"{self.kind}({self.low!r}, {self.high!r}{extra})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON form (stored with the study to check that a resumed study has the same space)."""
        if self.kind == "choice":
            return {"choice": list(self.choices)}
        out: dict[str, Any] = {self.kind: [self.low, self.high]}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out


def _number(text: str, kind: str, name: str, what: str) -> float | int:
    try:
        value: float | int = int(text) if kind == "int" else float(text)
    except ValueError:
        expected = "an int" if kind == "int" else "a number"
        message = f"Invalid search space for {name!r}: {what} {text!r} is not {expected}; {_HELP}."
        raise SearchSpaceError(message) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise SearchSpaceError(f"Invalid search space for {name!r}: {what} {text!r} is not finite; {_HELP}.")
    return value


def _check(dim: Dimension) -> Dimension:
    name = dim.name
    if dim.kind == "choice":
        if not dim.choices:
            raise SearchSpaceError(f"Invalid search space for {name!r}: choice() needs at least one value; {_HELP}.")
        return dim
    assert dim.low is not None and dim.high is not None
    if dim.low > dim.high:
        raise SearchSpaceError(f"Invalid search space for {name!r}: low {dim.low!r} is above high {dim.high!r}; "
                               "give the range as (low, high).")  # fmt: skip
    if dim.log and dim.low <= 0:
        raise SearchSpaceError(f"Invalid search space for {name!r}: a log scale needs low > 0, got {dim.low!r}.")
    if dim.log and dim.step is not None:
        raise SearchSpaceError(f"Invalid search space for {name!r}: 'log' and 'step' cannot be combined; pick one.")
    if dim.step is not None and dim.step <= 0:
        raise SearchSpaceError(f"Invalid search space for {name!r}: step must be > 0, got {dim.step!r}.")
    return dim


def _choice_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _split(body: str) -> list[str]:
    """Split ``a, [1, 2], 'x,y'`` at top-level commas."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in body:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_search(texts: Sequence[str]) -> dict[str, Dimension]:
    """Parse ``--search`` texts (``NAME=float(low,high[,log|,step=S])``, ``int(...)``, ``choice(a,b,...)``).

    Raises:
        SearchSpaceError: a malformed text (the message names it and shows the form).

    Example:
        >>> space = parse_search(["LR=float(1e-5, 1e-1, log)", "OPT=choice(adam, sgd)", "L=int(1,4)"])
        >>> space["LR"].log, space["OPT"].choices, space["L"].high
        (True, ('adam', 'sgd'), 4)
    """
    out: dict[str, Dimension] = {}
    for text in texts:
        m = _TEXT.match(text)
        if not m:
            raise SearchSpaceError(f"Invalid --search {text!r}: expected NAME=float(low,high[,log]), "
                                   f"NAME=int(low,high) or NAME=choice(a,b,...); {_HELP}.")  # fmt: skip
        name, kind, body = m.group(1), m.group(2), m.group(3)
        parts = _split(body)
        if kind == "choice":
            dim = Dimension(name, "choice", choices=tuple(_choice_value(p) for p in parts))
        else:
            flags = parts[2:]
            if len(parts) < 2:
                raise SearchSpaceError(f"Invalid --search {text!r}: {kind}() needs (low, high); {_HELP}.")
            low, high = (_number(p, kind, name, w) for p, w in zip(parts[:2], ("low", "high"), strict=True))
            log, step = False, None
            for flag in flags:
                if flag == "log":
                    log = True
                elif flag.startswith("step="):
                    step = _number(flag[5:], kind, name, "step")
                else:
                    raise SearchSpaceError(f"Invalid --search {text!r}: unknown option {flag!r}; "
                                           "use 'log' or 'step=S'.")  # fmt: skip
            dim = Dimension(name, kind, low, high, log, step)
        if name in out:
            raise SearchSpaceError(f"Invalid --search {text!r}: {name!r} is searched twice; give it once.")
        out[name] = _check(dim)
    return out


def parse_search_mapping(search: Mapping[str, Any], where: str = "search:") -> dict[str, Dimension]:
    """Parse a config file's ``search:`` mapping (``{LR: {float: [1e-5, 0.1], log: true}}``).

    Raises:
        SearchSpaceError: a malformed entry.

    Example:
        >>> parse_search_mapping({"LR": {"float": [1e-5, 0.1], "log": True}, "OPT": {"choice": ["a", "b"]}})["LR"]
        Dimension(name='LR', kind='float', low=1e-05, high=0.1, log=True, step=None, choices=())
    """
    form = "NAME: {float: [low, high], log: true} | {int: [low, high]} | {choice: [a, b]}"
    if not isinstance(search, Mapping):
        raise SearchSpaceError(f"Invalid {where} {search!r}: expected a mapping {form}.")
    out: dict[str, Dimension] = {}
    for name, entry in search.items():
        kinds = [k for k in _KINDS if isinstance(entry, Mapping) and k in entry]
        if not isinstance(entry, Mapping) or len(kinds) != 1:
            raise SearchSpaceError(f"Invalid {where} entry {name!r}: {entry!r}; expected {form}.")
        unknown = set(entry) - {*_KINDS, "log", "step"}
        if unknown:
            raise SearchSpaceError(f"Invalid {where} entry {name!r}: unknown key {sorted(unknown)[0]!r}; "
                                   "keys are float, int, choice, log, step.")  # fmt: skip
        kind, value = kinds[0], entry[kinds[0]]
        if kind == "choice":
            if not isinstance(value, list):
                raise SearchSpaceError(f"Invalid {where} entry {name!r}: choice must be a list, got {value!r}.")
            out[str(name)] = _check(Dimension(str(name), "choice", choices=tuple(value)))
            continue
        if not isinstance(value, list) or len(value) != 2:
            raise SearchSpaceError(f"Invalid {where} entry {name!r}: {kind} must be [low, high], got {value!r}.")
        low, high = (_number(str(v), kind, str(name), w) for v, w in zip(value, ("low", "high"), strict=True))
        log = entry.get("log", False)
        if not isinstance(log, bool):
            raise SearchSpaceError(f"Invalid {where} entry {name!r}: log must be true or false, got {log!r}.")
        step = entry.get("step")
        step = None if step is None else _number(str(step), kind, str(name), "step")
        out[str(name)] = _check(Dimension(str(name), kind, low, high, log, step))
    return out


def suggest(trial: Any, space: Mapping[str, Dimension]) -> dict[str, Any]:
    """Ask ``trial`` (an ``optuna.Trial``) for a value of every dimension.

    Example:
        >>> import optuna
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> values = suggest(study.ask(), parse_search(["L=int(1,4)"]))
        >>> 1 <= values["L"] <= 4
        True
    """
    out: dict[str, Any] = {}
    for name, dim in space.items():
        if dim.kind == "choice":
            out[name] = trial.suggest_categorical(name, list(dim.choices))
        elif dim.kind == "int":
            out[name] = trial.suggest_int(name, int(dim.low or 0), int(dim.high or 0), step=int(dim.step or 1),
                                          log=dim.log)  # fmt: skip
        else:
            out[name] = trial.suggest_float(name, float(dim.low or 0), float(dim.high or 0), step=dim.step,
                                            log=dim.log)  # fmt: skip
    return out
