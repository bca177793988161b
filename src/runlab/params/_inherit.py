"""``INHERIT``: a parameter of an extending experiment that takes its base experiment's value.

PyComex's sentinel (``from pycomex import INHERIT`` becomes ``from runlab import INHERIT``). In a
file made with ``Experiment.extend``::

    LEARNING_RATE = INHERIT                       # the base's value, said explicitly
    BATCH_SIZE = INHERIT(lambda v: v * 2)         # the base's value, transformed
    DATA_PATHS = INHERIT(lambda v: v + ["/extra"])

The value is worked out once, when the experiment is made (its parameters are discovered): the
transform gets a copy of the base's default, so the base is never changed. Along a chain
(base -> child -> grandchild) each level transforms the value the level below resolved to. An
override given when the experiment runs (``--BATCH_SIZE=64``, a config) sets the value itself.
The same marker works as an override value: ``experiment.run(LR=INHERIT(lambda v: v / 10))``
and a Python config's ``Config(globals_dict={"LR": INHERIT(...)})`` transform the current default.

Example:
    >>> from runlab.params import Param
    >>> INHERIT(lambda v: v * 2).resolve("BATCH_SIZE", Param("BATCH_SIZE", int, 32))
    64
    >>> INHERIT.resolve("LR", Param("LR", float, 0.1)), repr(INHERIT)
    (0.1, 'INHERIT')
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InheritError
from ._errors import did_you_mean

if TYPE_CHECKING:
    from ._param import Param

__all__ = ["INHERIT", "Inherit", "InheritError", "is_inherit"]


class Inherit:
    """A parameter value meaning "the base experiment's value", optionally through ``transform``.

    Made by ``INHERIT(fn)``; the bare :data:`INHERIT` is the instance without a transform.

    Attributes:
        transform: called with (a copy of) the base's value; its result is the parameter's value.
    """

    __slots__ = ("transform",)

    def __init__(self, transform: Callable[[Any], Any] | None = None) -> None:
        if transform is not None and not callable(transform):
            raise TypeError(
                f"INHERIT() expects a callable transform function, got {type(transform).__name__} "
                f"{transform!r}: write INHERIT(lambda value: value * 2)."
            )
        self.transform = transform

    def resolve(self, name: str, base: Param | None, known: Mapping[str, Any] | None = None) -> Any:
        """The value of parameter ``name`` given the base's definition ``base`` (None: the base lacks it).

        Args:
            name: the parameter set to this marker.
            base: the base experiment's parameter (its ``default`` is the base's value).
            known: the base's parameters, to suggest a close name when ``base`` is None.

        Raises:
            InheritError: the base has no parameter ``name``, or the transform raised.
        """
        if base is None:
            hint = did_you_mean(name, [n for n in known or {} if not n.startswith("__")])
            raise InheritError(
                f"Cannot resolve INHERIT for parameter {name!r}: the base experiment has no parameter {name!r}."
                f"{hint} INHERIT takes the value of the experiment a file extends (Experiment.extend or a "
                f"config's 'extend'); give {name} a value of its own instead.",
                name,
            )
        value = base.default
        if self.transform is None:
            return value
        try:
            argument = copy.deepcopy(value)
        except Exception:  # an object that cannot be copied is passed as it is
            argument = value
        try:
            return self.transform(argument)
        except Exception as exc:
            raise InheritError(
                f"The INHERIT transform of parameter {name!r} failed on the base value {value!r}: "
                f"{type(exc).__name__}: {exc}. Fix the function given to INHERIT(...).",
                name,
            ) from exc

    def __repr__(self) -> str:
        return f"INHERIT({getattr(self.transform, '__name__', repr(self.transform))})"


class _InheritMarker(Inherit):
    """The bare ``INHERIT`` (one object): the base's value as it is; ``INHERIT(fn)`` makes a transform."""

    __slots__ = ()

    def __call__(self, transform: Callable[[Any], Any]) -> Inherit:
        return Inherit(transform)

    def __repr__(self) -> str:
        return "INHERIT"

    def __reduce__(self) -> str:
        return "INHERIT"  # pickles by reference: the same object everywhere


INHERIT = _InheritMarker()
"""Use the base experiment's value for this parameter; ``INHERIT(fn)``: that value transformed by ``fn``."""


def is_inherit(value: Any) -> bool:
    """Whether ``value`` is ``INHERIT`` or ``INHERIT(fn)``.

    Example:
        >>> is_inherit(INHERIT), is_inherit(INHERIT(str)), is_inherit(3)
        (True, True, False)
    """
    return isinstance(value, Inherit)
