"""What an implementation's error handler isolates: exceptions and ``sys.exit()``, never Ctrl-C."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from runlab.hooks import HookImpl, HookRegistry


def _exit() -> None:
    sys.exit(3)


def _interrupt() -> None:
    raise KeyboardInterrupt


def _value_error() -> None:
    raise ValueError("bug")


CASES = [
    # (implementation, with an error handler, what the call raises (None: the chain goes on), handled)
    pytest.param(_value_error, True, None, "ValueError", id="exception-handled"),
    pytest.param(_exit, True, None, "SystemExit", id="sys-exit-handled"),
    pytest.param(_interrupt, True, KeyboardInterrupt, None, id="ctrl-c-propagates-despite-a-handler"),
    pytest.param(_value_error, False, ValueError, None, id="exception-without-handler-propagates"),
    pytest.param(_exit, False, SystemExit, None, id="sys-exit-without-handler-propagates"),
]


@pytest.mark.parametrize(("fn", "handled_here", "raises", "handled"), CASES)
def test_what_an_error_handler_isolates(
    fn: Any, handled_here: bool, raises: type[BaseException] | None, handled: str | None
) -> None:
    seen: list[str] = []

    def on_error(impl: HookImpl, exc: BaseException, kwargs: dict[str, Any]) -> None:
        seen.append(type(exc).__name__)

    hooks = HookRegistry(on_error=on_error if handled_here else None)
    hooks.register("before_run", fn, priority=10, plugin="bad")
    hooks.register("before_run", lambda: "next", priority=0)
    if raises is None:
        assert hooks.apply("before_run") == "next"
    else:
        with pytest.raises(raises):
            hooks.apply("before_run")
    assert seen == ([handled] if handled else [])
