"""``ExperimentMixin``: parameters and hooks that several experiments share, added with ``include``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..params import Param, discover_params
from ._hooks import HookEntries, HookMap

__all__ = ["ExperimentMixin"]

F = TypeVar("F", bound=Callable[..., Any])


class ExperimentMixin:
    """Reusable hook implementations and parameters for functional experiments.

    A mixin file defines UPPERCASE parameters, makes one ``ExperimentMixin`` from its
    ``globals()`` and registers hooks on it; an experiment adds it with
    ``experiment.include("logging_mixin.py")``. The mixin's parameters become the
    experiment's (the experiment file's own values win), and its hooks run after the base
    experiment's and before the experiment file's own.

    Args:
        glob: the mixin module's ``globals()``.

    Example:
        A mixin file::

            from runlab import ExperimentMixin

            MIXIN_LOG_LEVEL: str = "INFO"  # level of the mixin's messages

            mixin = ExperimentMixin(glob=globals())

            @mixin.hook("before_run")
            def setup_logging(e):
                e.log(f"Logging level: {e.MIXIN_LOG_LEVEL}")

        >>> mixin = ExperimentMixin(glob={"LEVEL": "INFO"})
        >>> _ = mixin.hook("before_run")(lambda e: None)
        >>> sorted(mixin.parameters()), len(mixin.hooks)
        (['LEVEL'], 1)
    """

    def __init__(self, glob: Mapping[str, Any] | None = None) -> None:
        self.glob: Mapping[str, Any] = glob if glob is not None else {}
        file = self.glob.get("__file__")
        self.path: Path | None = Path(file).resolve() if isinstance(file, (str, os.PathLike)) and file else None
        self.hooks = HookMap(origin=str(self.path) if self.path else "<mixin>")

    def hook(self, name: str, replace: bool = False, default: bool = False, priority: int = 0) -> Callable[[F], F]:
        """Register the decorated function ``fn(e, **kwargs)`` as an implementation of hook ``name``.

        Args:
            name: the hook, e.g. ``"before_run"``, ``"after_run"`` or one the experiment applies.
            replace: drop the implementations registered before this one (the base experiment's).
            default: run only when no other implementation of ``name`` exists.
            priority: higher runs first.

        Raises:
            HookSignatureError: ``before_run``/``after_run`` implementation naming an argument
                the hook does not pass.
        """
        return self.hooks.decorator(name, replace=replace, default=default, priority=priority)

    def parameters(self) -> dict[str, Param]:
        """The mixin's parameters: its module's UPPERCASE globals (with comment descriptions)."""
        return discover_params(self.glob)

    def annotated(self) -> set[str]:
        """The parameter names the mixin annotated with a type."""
        return set(self.glob.get("__annotations__") or {})

    def hook_entries(self) -> HookEntries:
        """The mixin's hooks by name."""
        return self.hooks.entries()

    def __repr__(self) -> str:
        return f"<ExperimentMixin {self.path or '<mixin>'}>"
