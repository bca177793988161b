"""Workflow steps and their dependency order (cycles and unknown steps are errors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError

__all__ = ["Step", "order_steps"]


@dataclass
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
        self.after = [a.name if isinstance(a, Step) else a for a in self.after]


def order_steps(steps: Sequence[Step]) -> list[str]:
    """The step names in an order where every step comes after its dependencies.

    Raises:
        ValidationError: a duplicate name, a dependency on an unknown step, or a cycle (named).

    Example:
        >>> order_steps([Step("b", None, ["a"]), Step("a", None)])
        ['a', 'b']
    """
    names = [s.name for s in steps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(f"Workflow step {dupes[0]!r} is defined twice; give every step its own name.")
    by_name = {s.name: s for s in steps}
    for step in steps:
        for dep in step.after:
            if dep not in by_name:
                from ..params import did_you_mean

                raise ValidationError(f"Step {step.name!r} depends on unknown step {dep!r}.{did_you_mean(dep, names)} "
                                      f"Steps: {', '.join(names)}.")  # fmt: skip
    order: list[str] = []
    state: dict[str, int] = {}  # 1: visiting, 2: done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            raise ValidationError(
                f"Workflow steps form a cycle: {' -> '.join(cycle)}. Remove one of these dependencies."
            )
        state[name] = 1
        for dep in by_name[name].after:
            visit(dep, [*path, name])
        state[name] = 2
        order.append(name)

    for name in names:
        visit(name, [])
    return order
