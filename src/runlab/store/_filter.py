r"""The filter language for querying runs, compiled to SQLite SQL with bound values.

A filter is a boolean expression over the fields of a run::

    params.lr < 0.01 and status == 'completed'
    metrics.loss.min <= 0.2 or 'best' in tags
    not (experiment in ['baseline', 'ablation'] or created < '2026-11-01')

Grammar (keywords are case-insensitive; ``not`` binds tighter than ``and``, which binds
tighter than ``or``)::

    expression := conjunction ("or" conjunction)*
    conjunction := term ("and" term)*
    term       := "not" term | "(" expression ")" | comparison
    comparison := field op literal | field ["not"] "in" list | string ["not"] "in" "tags"
    op         := "==" | "=" | "!=" | "<" | "<=" | ">" | ">="
    list       := "[" [literal ("," literal)*] "]"
    literal    := number | string | "true" | "false" | "null" | "none"

Fields:
    ``params.NAME``: a parameter. NAME may hold letters, digits, ``_``, ``-``, ``/`` and
    dots; dots address nested keys (``params.optimizer.lr``).
    ``metrics.NAME[.AGG]``: a metric summary, AGG one of ``min``, ``max``, ``last`` (the
    default), ``count``, ``step``. A metric whose name ends in one of these words needs an
    explicit aggregate: ``metrics.val.min.last``.
    ``status``: the effective status (a ``running`` run whose process is gone is
    ``crashed``); one of created, running, completed, failed, cancelled, crashed, pruned, damaged
    (a run whose ``run.json`` cannot be read; ``problem`` says why).
    ``name``, ``namespace``, ``experiment``, ``description``, ``id``, ``error``, ``sweep``,
    ``study``, ``parent``, ``problem``: text.
    ``created``, ``started``, ``ended``: an ISO date or datetime string (naive means local
    time, ``'2026-11-23'`` is midnight) or epoch seconds. ``duration``: seconds.
    ``tags``: ``tags == 'x'`` and ``'x' in tags`` (has x), ``tags != 'x'`` and
    ``'x' not in tags`` (lacks x), ``tags in ['a', 'b']`` (has any), ``tags == null`` (none).

Semantics:
    * A comparison is true or false, never unknown: one with a missing or null value is
      false, so ``not`` always gives the complement. Hence ``params.x != 3`` and
      ``params.x not in [...]`` match only runs that have a non-null ``x``, while
      ``not params.x == 3`` also matches runs without it.
    * ``field == null`` (or ``none``) matches a null or missing value (for params: the run
      lacks the key or its value is null); ``field != null`` matches the others.
    * ``true`` and ``false`` are 1 and 0, as booleans are stored.
    * ``<``, ``<=``, ``>``, ``>=`` on params only see values of the literal's kind:
      ``params.lr < 0.1`` ignores text values. Metrics compare with numbers only.
    * Infinities are numbers: ``inf`` is above every number and ``-inf`` below (``params.x > 5``
      holds for ``inf``), for params (stored as the texts ``'Infinity'`` and ``'-Infinity'``) as
      for metrics; a NaN compares false with ``<``, ``<=``, ``>``, ``>=`` and ``==`` a number.
      ``1e999`` is ``inf`` (``params.x == 1e999``). A text parameter spelled ``'Infinity'``,
      ``'-Infinity'`` or ``'NaN'`` reads the same as the number (the run's files write them so).
    * Strings take single or double quotes and the escapes ``\\ \' \" \n \t``; any other
      backslash is kept as is. Lists only follow ``in`` and may not contain null.

Example:
    >>> compile_where("name == 'a' or 'best' in tags")
    ('((r.name = ? AND r.name IS NOT NULL) OR r.id IN (SELECT run_id FROM tags WHERE tag = ?))', ['a', 'best'])
    >>> compile_where("params.opt.lr = 1e-3")
    ('r.id IN (SELECT run_id FROM params WHERE key = ? AND value = ?)', ['opt.lr', 0.001])
    >>> compile_order("-duration")
    ('r.duration DESC, r.id DESC', [])
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from difflib import get_close_matches
from typing import Any, NoReturn

from .._valueclass import value_class
from ..errors import FilterError
from ._index import STATUS_SQL
from ._records import FIELD_KINDS
from ._status import RunStatus

__all__ = ["FIELDS_HELP", "compile_order", "compile_where"]

AGGREGATES = ("min", "max", "last", "count", "step")
_KINDS = {name: kind for name, kind in FIELD_KINDS.items() if kind is not None}
FIELDS_HELP = "params.<name>, metrics.<name>[.min|.max|.last|.count|.step], " + ", ".join(_KINDS)
_STATUSES = tuple(s.value for s in RunStatus)
_NOT_NULL = {"id", "namespace", "status"}
_LIKELY_AGGREGATES = {"mean", "avg", "average", "median", "sum", "std", "first", "minimum", "maximum"}
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "none"}
_OPS = {"==": "=", "=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_MAX_DEPTH = 100
_MAX_VALUES = 10_000
_SHOWN = 100  # characters of the expression quoted in an error message
_DEFAULT_ORDER = "r.created ASC, r.id ASC"
#: A parameter's NaN and infinities are stored in the index as these texts (SQLite has no NaN, and JSON
#: neither). Filters and sorts read them as numbers: NaN like a missing value, the infinities at the ends.
_NONFINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
_NONFINITE_SQL = "('Infinity', '-Infinity', 'NaN')"
#: A parameter's index value as a sortable number: the infinities as SQLite's (9e999 overflows to +inf),
#: NaN as NULL (with the missing values); any other value as stored.
_PARAM_NUMBER = "CASE value WHEN 'Infinity' THEN 9e999 WHEN '-Infinity' THEN -9e999 ELSE NULLIF(value, 'NaN') END"

_IDENT = re.compile(r"[^\W\d][\w\-/.]*")
_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<num>-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?P<ident>[^\W\d][\w\-/.]*)"
    r"|(?P<op>==|!=|<=|>=|=|<|>)|(?P<punct>[()\[\],])|(?P<str>['\"])"
)


@value_class(frozen=True)
class _Token:
    kind: str  # num, ident, op, punct, str, eof
    text: str  # the source text (for str: the decoded value)
    pos: int
    end: int


@value_class(frozen=True)
class _Field:
    kind: str  # params, metrics, status, text, time, number, tags
    name: str  # as written
    column: str  # runs column, or the metrics column
    key: str = ""  # the param key or metric name


@value_class(frozen=True)
class _Literal:
    kind: str  # num, str, bool, null
    value: Any
    pos: int
    end: int


def _fail(message: str, text: str, pos: int, end: int | None = None, tail: str = "") -> NoReturn:
    start = max(0, min(pos - _SHOWN // 2, len(text) - _SHOWN))  # long expressions: show a window around pos
    shown = ("..." if start else "") + re.sub(r"\s", " ", text[start : start + _SHOWN])
    shown += "..." if start + _SHOWN < len(text) else ""
    width = max(1, min((end if end is not None else pos + 1), start + _SHOWN) - pos)
    indent = " " * (pos - start + (3 if start else 0))
    raise FilterError(f"{message} at position {pos}{tail}\n  {shown}\n  {indent}{'^' * width}", text, pos)


def _resolve(name: str, text: str, pos: int) -> _Field:
    """The field an identifier names, or a FilterError with a suggestion."""
    end = pos + len(name)
    head, dot, rest = name.partition(".")
    if dot and head in ("params", "metrics"):
        if not rest:
            _fail(f"Missing {'parameter' if head == 'params' else 'metric'} name after '{name}'", text, pos, end)
        if head == "params":
            return _Field("params", name, "value", rest)
        base, _, last = rest.rpartition(".")
        if base and last in AGGREGATES:
            return _Field("metrics", name, last, base)
        if base and last.lower() in _LIKELY_AGGREGATES:
            tail = f"; valid aggregates: {', '.join(AGGREGATES)} (for a metric named '{rest}' write '{name}.last')"
            _fail(f"Unknown aggregate '{last}' in '{name}'", text, pos, end, tail)
        return _Field("metrics", name, "last", rest)
    if name in _KINDS:
        return _Field(_KINDS[name], name, name)
    guess = get_close_matches(head.lower(), ["params", "metrics"], n=1) if dot else []
    if guess:
        suggestion = f"{guess[0]}.{rest}"
    else:
        guess = get_close_matches(name.lower(), [*_KINDS, "params", "metrics"], n=1)
        suggestion = (guess[0] + (".<name>" if guess[0] in ("params", "metrics") else "")) if guess else ""
    hint = f" Did you mean '{suggestion}'?" if suggestion else ""
    _fail(f"Unknown field '{name}'", text, pos, end, f"; valid fields: {FIELDS_HELP}.{hint}")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            _fail(f"Unexpected character {text[i]!r}", text, i)
        kind = m.lastgroup or ""
        if kind == "str":
            value, end = _read_string(text, i)
            tokens.append(_Token("str", value, i, end))
            i = end
            continue
        if kind == "num" and m.end() < len(text) and (text[m.end()].isalnum() or text[m.end()] in "_."):
            _fail(f"Malformed number {m.group() + text[m.end()]!r}", text, i, m.end() + 1)
        if kind != "ws":
            tokens.append(_Token(kind, m.group(), i, m.end()))
        i = m.end()
    tokens.append(_Token("eof", "", len(text), len(text)))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote, i = text[start], start + 1
    out: list[str] = []
    while i < len(text):
        char = text[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    _fail("Unterminated string", text, start, len(text))


def _join(op: str, parts: list[str]) -> str:
    """``parts`` joined by ``op``, nested as a balanced tree (SQLite caps expression depth at 1000)."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return f"({_join(op, parts[:mid])} {op} {_join(op, parts[mid:])})"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.values: list[Any] = []

    # -- tokens -----------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "ident" and token.text.lower() == word

    def fail(self, message: str, token: _Token) -> NoReturn:
        _fail(message, self.text, token.pos, token.end)

    def found(self, token: _Token) -> str:
        return "end of expression" if token.kind == "eof" else repr(self.text[token.pos : token.end])

    def expect(self, kind: str, text: str, what: str) -> _Token:
        token = self.advance()
        if token.kind != kind or token.text.lower() != text:
            self.fail(f"Expected {what}, found {self.found(token)}", token)
        return token

    # -- grammar ----------------------------------------------------------------------
    def parse(self) -> str:
        if self.peek().kind == "eof":
            _fail("Empty filter expression", self.text, 0)
        sql = self.disjunction()
        token = self.peek()
        if token.kind != "eof":
            self.fail(f"Unexpected {self.found(token)} after a complete expression (missing 'and'/'or'?)", token)
        if len(self.values) > _MAX_VALUES:
            _fail(f"Too many values in the filter (limit {_MAX_VALUES})", self.text, 0, len(self.text))
        return sql

    def disjunction(self) -> str:
        parts = [self.conjunction()]
        while self.at_keyword("or"):
            self.advance()
            parts.append(self.conjunction())
        return _join("OR", parts)

    def conjunction(self) -> str:
        parts = [self.term()]
        while self.at_keyword("and"):
            self.advance()
            parts.append(self.term())
        return _join("AND", parts)

    def term(self) -> str:
        token = self.peek()
        if self.depth >= _MAX_DEPTH:
            self.fail(f"Expression nested too deeply (limit {_MAX_DEPTH})", token)
        self.depth += 1
        try:
            if self.at_keyword("not"):
                self.advance()
                return f"NOT {self.term()}"
            if token.kind == "punct" and token.text == "(":
                self.advance()
                sql = self.disjunction()
                self.expect("punct", ")", "')' to close the '(' at position " + str(token.pos))
                return f"({sql})"
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> str:
        token = self.advance()
        if token.kind in ("str", "num") or (token.kind == "ident" and token.text.lower() in _KEYWORDS - {"not"}):
            if token.kind == "ident" and token.text.lower() in ("and", "or", "in"):
                self.fail(f"Expected a field name, found {self.found(token)}", token)
            literal = self.literal(token)
            negate = self.at_keyword("not")
            if negate:
                self.advance()
            self.expect("ident", "in", "'in tags' after a value on the left")
            self.expect("ident", "tags", "'tags' (a value on the left only works as 'x' in tags)")
            tags = _Field("tags", "tags", "tag")
            self.value(tags, literal)  # a string, or an error
            return self.compare(tags, "!=" if negate else "=", literal, token)
        if token.kind != "ident":
            self.fail(f"Expected a field name, found {self.found(token)}", token)
        field = _resolve(token.text, self.text, token.pos)
        op = self.advance()
        if op.kind == "op":
            value = self.advance()
            if value.kind == "punct" and value.text == "[":
                self.fail("A list is only allowed after 'in'", value)
            return self.compare(field, _OPS[op.text], self.literal(value), op)
        negate = op.kind == "ident" and op.text.lower() == "not"
        if negate:
            op = self.advance()
        if op.kind == "ident" and op.text.lower() == "in":
            return self.members(field, self.items(), negate)
        expected = "'in'" if negate else "an operator (==, !=, <, <=, >, >=, in, not in)"
        self.fail(f"Expected {expected} after '{token.text}', found {self.found(op)}", op)

    def literal(self, token: _Token) -> _Literal:
        word = token.text.lower() if token.kind == "ident" else ""
        if token.kind == "str":
            return _Literal("str", token.text, token.pos, token.end)
        if token.kind == "num":
            text = token.text  # integers beyond SQLite's 64 bits (and their digit-limited parsing) become floats
            integer = not any(c in text for c in ".eE") and len(text) <= 20 and -(2**63) <= int(text) < 2**63
            return _Literal("num", int(text) if integer else float(text), token.pos, token.end)
        if word in ("true", "false"):
            return _Literal("bool", int(word == "true"), token.pos, token.end)
        if word in ("null", "none"):
            return _Literal("null", None, token.pos, token.end)
        self.fail(f"Expected a value (number, 'string', true, false, null), found {self.found(token)}", token)

    def items(self) -> list[_Literal]:
        self.expect("punct", "[", "'[' to start a list after 'in'")
        items: list[_Literal] = []
        while not (self.peek().kind == "punct" and self.peek().text == "]"):
            if items:
                self.expect("punct", ",", "',' or ']' in the list")
            token = self.advance()
            if token.kind == "punct" and token.text == "[":
                self.fail("Lists cannot be nested", token)
            items.append(self.literal(token))
            if items[-1].kind == "null":
                self.fail("null is not allowed in a list; use 'field == null'", token)
        self.advance()
        return items

    # -- compilation --------------------------------------------------------------------
    def value(self, field: _Field, literal: _Literal) -> Any:
        """The bound value for ``literal`` compared with ``field``, checked for its kind."""
        kind, value = literal.kind, literal.value
        if field.kind in ("params", "text") or (kind == "num" and field.kind in ("time", "number", "metrics")):
            return value
        if kind == "str" and field.kind == "tags":
            return value
        if kind == "str" and field.kind == "status" and value.lower() in _STATUSES:
            return value.lower()
        if kind == "str" and field.kind == "time":
            try:
                return datetime.fromisoformat(value).timestamp()
            except (ValueError, OverflowError, OSError):
                _fail(f"Invalid date {value!r} for '{field.name}' (use ISO format like '2026-11-23' or "
                      "'2026-11-23T08:30')", self.text, literal.pos, literal.end)  # fmt: skip
        expected = {"time": "a date string or epoch seconds", "number": "a number (seconds)",
                    "metrics": "a number", "status": f"one of {', '.join(_STATUSES)}", "tags": "a string"}  # fmt: skip
        shown = self.text[literal.pos : literal.end]
        _fail(f"Invalid value {shown} for '{field.name}': expected {expected[field.kind]}",
              self.text, literal.pos, literal.end)  # fmt: skip

    def subquery(self, field: _Field, condition: str, values: list[Any], negate: bool = False) -> str:
        table, key = {"params": ("params", "key"), "metrics": ("metrics", "name")}.get(field.kind, ("tags", ""))
        where = f"{key} = ? AND {condition}" if key else condition
        self.values += [field.key, *values] if key else values
        return f"r.id {'NOT IN' if negate else 'IN'} (SELECT run_id FROM {table}{' WHERE ' + where if where else ''})"

    def column(self, field: _Field, condition: str, values: list[Any]) -> str:
        self.values += values
        sql = STATUS_SQL if field.kind == "status" else f"r.{field.column}"
        if field.column in _NOT_NULL:
            return f"{sql} {condition}"
        return f"({sql} {condition} AND {sql} IS NOT NULL)"

    def compare(self, field: _Field, op: str, literal: _Literal, op_token: _Token) -> str:
        column = f'"{field.column}"' if field.kind == "metrics" else field.column
        if literal.kind == "null":
            if op not in ("=", "!="):
                self.fail("null can only be compared with == or !=", op_token)
            if field.kind in ("params", "metrics"):
                return self.subquery(field, f"{column} IS NOT NULL", [], negate=op == "=")
            if field.kind == "tags":
                return self.subquery(field, "", [], negate=op == "=")
            sql = STATUS_SQL if field.kind == "status" else f"r.{field.column}"
            return f"{sql} IS {'' if op == '=' else 'NOT '}NULL"
        if op not in ("=", "!=") and field.kind in ("status", "tags"):
            self.fail(f"'{field.kind}' supports only ==, !=, in and not in", op_token)
        value = self.value(field, literal)
        if field.kind == "tags":
            return self.subquery(field, "tag = ?", [value], negate=op == "!=")
        if field.kind == "params":
            return self.param(field, op, literal.kind, value)
        if field.kind == "metrics":
            return self.subquery(field, f"{column} {op} ?", [value])
        return self.column(field, f"{op} ?", [value])

    def param(self, field: _Field, op: str, kind: str, value: Any) -> str:
        """``params.NAME op literal`` (``kind``: the literal's), each part a lookup in ``params_key_value``.

        ``==`` and ``!=`` compare as stored (an infinite literal, ``1e999``, as its text). ``<``, ``<=``,
        ``>``, ``>=`` see only values of the literal's kind: for a number, the stored numbers plus the
        infinities that satisfy the comparison (``'Infinity'`` is above every number, ``'-Infinity'``
        below, ``'NaN'`` compares false), the two as separate subqueries so the range stays a range;
        for a text, the texts other than those three spellings.
        """
        if op in ("=", "!="):
            return self.subquery(field, f"value {op} ?", [_param_value(value)])
        if kind == "str":
            return self.subquery(field, f"value {op} ? AND typeof(value) = 'text' AND value NOT IN {_NONFINITE_SQL}",
                                 [value])  # fmt: skip
        numbers = self.subquery(field, f"value {op} ? AND typeof(value) IN ('integer', 'real')", [value])
        compare = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}[op]
        infinities = [text for text, number in _NONFINITE.items() if compare(number, float(value))]
        if not infinities:
            return numbers
        marks = ", ".join("?" * len(infinities))
        return f"({numbers} OR {self.subquery(field, f'value IN ({marks})', infinities)})"

    def members(self, field: _Field, literals: list[_Literal], negate: bool) -> str:
        values = [self.value(field, literal) for literal in literals]
        marks = f"({', '.join('?' * len(values))})"
        if field.kind == "tags":
            return self.subquery(field, f"tag IN {marks}", values, negate)
        not_in = "NOT IN" if negate else "IN"
        if field.kind in ("params", "metrics"):
            column = f'"{field.column}"' if field.kind == "metrics" else field.column
            if field.kind == "params":  # 1e999 is +inf: the text an infinite parameter is stored as
                values = [_param_value(value) for value in values]
            return self.subquery(field, f"{column} {not_in} {marks}", values)
        return self.column(field, f"{not_in} {marks}", values)


def _param_value(value: Any) -> Any:
    """A literal as the index stores a parameter: an infinite number (``1e999``) as its text."""
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def compile_where(expr: str) -> tuple[str, list[Any]]:
    """Compile a filter expression to ``(sql_boolean_expression, bound_values)``.

    The SQL refers to the runs table as ``r``; see the module docstring for the language.

    Raises:
        FilterError: the expression is malformed, names an unknown field or has a bad value.
    """
    parser = _Parser(expr)
    return parser.parse(), parser.values


def compile_order(order_by: str | Sequence[str] | None) -> tuple[str, list[Any]]:
    """Compile sort keys to ``(ORDER BY body, bound_values)``.

    ``order_by`` is a field (``'created'``, ``'-metrics.loss'``), several separated by
    commas (``'params.lr,-created'``) or a sequence of such. A leading ``-`` sorts
    descending. Nulls, NaN and missing values sort last either way, ``inf`` and ``-inf`` as the
    largest and smallest numbers (params too, whose infinities the index holds as texts); a
    param's text values come after its numbers; ``r.id`` breaks ties, in the direction of the
    first key.

    Raises:
        FilterError: a key is malformed or names an unknown field (or ``tags``).
    """
    text = order_by if isinstance(order_by, str) else ",".join(str(item) for item in order_by or ())
    if not text.strip():
        return _DEFAULT_ORDER, []
    parts: list[str] = []
    values: list[Any] = []
    tiebreak = ""
    pos = 0
    for item in text.split(","):
        start, pos = pos, pos + len(item) + 1
        key = item.strip()
        at = start + len(item) - len(item.lstrip())
        if not key:
            _fail("Empty sort key", text, at)
        direction = "DESC" if key[0] == "-" else "ASC"
        tiebreak = tiebreak or direction  # ties follow the first key, so an index serves both
        if key[0] in "+-":
            at += len(key) - len(key[1:].lstrip())
            key = key[1:].lstrip()
        if not _IDENT.fullmatch(key):
            _fail(f"Invalid sort key {key!r} (expected a field, optionally prefixed by '-')", text, at, at + len(key))
        field = _resolve(key, text, at)
        if field.kind == "tags":
            _fail("Cannot sort by 'tags'", text, at, at + len(key))
        if field.kind in ("params", "metrics"):
            table, name = ("params", "key") if field.kind == "params" else ("metrics", "name")
            # a parameter's NaN and infinities are stored as the texts 'NaN', 'Infinity', '-Infinity' (metric
            # summaries hold NULL and SQLite's infinities): NaN with the missing values, last either way, and
            # the infinities as numbers at the ends, instead of after every number as texts
            column = _PARAM_NUMBER if field.kind == "params" else f'"{field.column}"'
            sql = f"(SELECT {column} FROM {table} WHERE run_id = r.id AND {name} = ?)"
            if direction == "DESC":  # SQLite puts NULLs last in descending order already
                parts.append(f"{sql} DESC")
                values.append(field.key)
            else:
                parts.append(f"{sql} IS NULL, {sql} ASC")
                values += [field.key, field.key]
        elif field.column in _NOT_NULL:
            parts.append(f"{STATUS_SQL if field.kind == 'status' else 'r.' + field.column} {direction}")
        elif direction == "DESC":  # NULLs already last; a bare column lets an index serve the order
            parts.append(f"r.{field.column} DESC")
        else:
            parts.append(f"r.{field.column} IS NULL, r.{field.column} ASC")
    return ", ".join([*parts, f"r.id {tiebreak}"]), values
