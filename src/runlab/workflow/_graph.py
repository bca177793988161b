"""Workflow steps and their dependency order (cycles and unknown steps are errors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from typing import Any

from .._valueclass import value_class
from ..errors import ValidationError

__all__ = ["Step", "order_steps"]


@value_class
class Step:
    """One step of a workflow: a script (or experiment file) with its configs and dependencies.

    Attributes:
        name: unique within the workflow.
        script: a :class:`runlab.Script` (its ``config`` may be a list or a lazy generator of configs).
        after: names of the steps that must complete first.
        lazy: run the step's configs one after another, asking for the next config only when the
            previous run finished (a generator config may depend on earlier results); else all at once.
        arguments: arguments of the script's named entry point (``file.py:function``), typed, given
            to every run of the step by name and recorded as its parameters (as ``runlab run
            file.py:function -p NAME=VALUE`` does).

    Example:
        >>> Step("train", object(), after=["prep"]).after
        ['prep']
    """

    name: str
    script: Any
    after: list[str] = field(default_factory=list)
    lazy: bool = True
    arguments: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError(f"Invalid step name {self.name!r}: give a non-empty text.")
        after = [self.after] if isinstance(self.after, (str, Step)) else self.after  # one name, not its letters
        self.after = [a.name if isinstance(a, Step) else a for a in after]
        for dep in self.after:
            if not isinstance(dep, str):
                raise ValidationError(f"Invalid dependency {dep!r} of step {self.name!r}: give step names or Steps.")


def order_steps(steps: Sequence[Step]) -> list[str]:
    """The step names in an order where every step comes after its dependencies.

    Raises:
        ValidationError: a duplicate name, a dependency on an unknown step, or a cycle (named).

    Example:
        >>> order_steps([Step("b", None, ["a"]), Step("a", None)])
        ['a', 'b']
    """
    names = [s.name for s in steps]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError(f"Workflow step {name!r} is defined twice; give every step its own name.")
        seen.add(name)
    by_name = {s.name: s for s in steps}
    for step in steps:
        for dep in step.after:
            if dep not in by_name:
                from ..params import did_you_mean

                raise ValidationError(f"Step {step.name!r} depends on unknown step {dep!r}.{did_you_mean(dep, names)} "
                                      f"Steps: {', '.join(names)}.")  # fmt: skip
    order: list[str] = []
    done: set[str] = set()
    for first in names:  # depth first with a stack of (step, its next dependency): no recursion limit
        path: list[str] = []  # the steps being visited, in order (a set beside it for speed)
        on_path: set[str] = set()
        stack = [(first, 0)]
        while stack:
            name, i = stack.pop()
            if i == 0:
                if name in done:
                    continue
                if name in on_path:
                    cycle = [*path[path.index(name) :], name]
                    raise ValidationError(
                        f"Workflow steps form a cycle: {' -> '.join(cycle)}. Remove one of these dependencies."
                    )
                path.append(name)
                on_path.add(name)
            deps = by_name[name].after
            if i < len(deps):
                stack += [(name, i + 1), (deps[i], 0)]
            else:
                on_path.discard(path.pop())
                done.add(name)
                order.append(name)
    return order
