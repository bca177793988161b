"""runlab's value classes: :func:`value_class`, a dataclass that costs little to define.

``@dataclasses.dataclass`` writes the source of ``__init__``, ``__repr__``, ``__eq__`` and, for a
frozen class, ``__hash__``, ``__setattr__`` and ``__delattr__``, and compiles it, for every class
as its module is imported: about 0.4 ms a frozen class. The request, result and parameter
classes that every ``runlab run`` imports cost 5 ms of a 50 ms process that way
(``benchmarks/bench_run_startup.py``).

``@value_class`` lets :mod:`dataclasses` write ``__init__`` only and gives the class the other
methods as functions shared by every value class, which read the fields that
:func:`dataclasses.fields` lists. The class is a dataclass like any other
(``dataclasses.replace``, ``fields``, ``asdict`` and pickling work), with the same behaviour:

- ``repr``: ``Name(field=value, ...)`` over the fields with ``repr=True``;
- ``==``: same class and equal fields (those with ``compare=True``); ``eq=False`` keeps identity;
- ``frozen=True``: assigning or deleting a field after ``__init__`` raises
  :class:`dataclasses.FrozenInstanceError` (``__post_init__`` normalises with
  ``object.__setattr__``, as for a frozen dataclass), and an ``eq`` class is hashable by its
  fields; a mutable ``eq`` class is unhashable.

Type checkers are told it is :func:`dataclasses.dataclass` itself, so they check constructor
calls and assignments to frozen fields as for any dataclass.

Example:
    >>> @value_class(frozen=True)
    ... class Point:
    ...     x: int
    ...     y: int = 0
    >>> p = Point(1)
    >>> p, p == Point(1, 0), dataclasses.replace(p, y=2)
    (Point(x=1, y=0), True, Point(x=1, y=2))
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

__all__ = ["value_class"]

_T = TypeVar("_T")


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__value_repr__)
    return f"{type(self).__qualname__}({shown})"


def _key(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__value_compare__)


def _eq(self: Any, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self: Any) -> int:
    return hash(_key(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    # the generated __init__ assigns each field once; any other assignment is refused
    if name in self.__dict__ or name not in type(self).__dataclass_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _make(cls: type[_T], frozen: bool, eq: bool) -> type[_T]:
    own = cls.__dict__
    made: Any = dataclasses.dataclass(cls, repr=False, eq=False)
    fields = dataclasses.fields(made)
    made.__value_repr__ = tuple(f.name for f in fields if f.repr)
    made.__value_compare__ = tuple(f.name for f in fields if f.compare)
    if "__repr__" not in own:
        made.__repr__ = _repr
    if eq and "__eq__" not in own:
        made.__eq__ = _eq
        if "__hash__" not in own:
            made.__hash__ = _hash if frozen else None
    if frozen:
        made.__setattr__ = _frozen_setattr
        made.__delattr__ = _frozen_delattr
    return made  # type: ignore[no-any-return]


if TYPE_CHECKING:
    from dataclasses import dataclass as value_class
else:

    def value_class(cls=None, /, *, frozen=False, eq=True):
        """A dataclass whose ``repr``, ``==``, hash and frozenness come from shared functions (see the module)."""
        if cls is None:
            return lambda c: _make(c, frozen, eq)
        return _make(cls, frozen, eq)
