"""The hook registry: order, StopHook, subset arguments, unknown names."""

from __future__ import annotations

from typing import Any

import pytest

from runlab.plugins import HOOKS, HookRegistry, StopHook, UnknownHookWarning, accepted_arguments


def test_priority_highest_first_then_registration_order() -> None:
    hooks = HookRegistry()
    calls: list[str] = []
    hooks.register("before_run", lambda: calls.append("low"), priority=-5)
    hooks.register("before_run", lambda: calls.append("a0"))
    hooks.register("before_run", lambda: calls.append("high"), priority=10)
    hooks.register("before_run", lambda: calls.append("b0"))
    hooks.apply("before_run")
    assert calls == ["high", "a0", "b0", "low"]


def test_stop_hook_ends_the_chain_and_carries_a_value() -> None:
    hooks = HookRegistry()
    calls: list[str] = []

    def stop() -> None:
        calls.append("stop")
        raise StopHook({"veto": True})

    hooks.register("after_run", lambda: calls.append("first") or "ignored", priority=2)
    hooks.register("after_run", stop, priority=1)
    hooks.register("after_run", lambda: calls.append("never"))
    assert hooks.apply("after_run", run=None) == {"veto": True}
    assert calls == ["first", "stop"]


def test_apply_returns_the_last_value_that_is_not_none() -> None:
    hooks = HookRegistry()
    hooks.register("after_run", lambda: 1, priority=3)
    hooks.register("after_run", lambda: 2, priority=2)
    hooks.register("after_run", lambda: None, priority=1)
    assert hooks.apply("after_run") == 2
    assert hooks.apply("before_run") is None


def test_implementations_get_the_subset_of_arguments_they_accept() -> None:
    hooks = HookRegistry()
    seen: dict[str, Any] = {}

    class Impl:
        def method(self, new: str) -> None:
            seen["method"] = new

    def only_run(run: str) -> None:
        seen["only_run"] = run

    def keyword_only(*, old: str | None, new: str) -> None:
        seen["keyword_only"] = (old, new)

    def everything(**kwargs: Any) -> None:
        seen["everything"] = kwargs

    for fn in (only_run, keyword_only, everything, Impl().method, lambda: seen.setdefault("none", True)):
        hooks.register("run_state_changed", fn)
    hooks.apply("run_state_changed", run="r", old=None, new="running", future_argument=1)
    assert seen == {
        "only_run": "r",
        "keyword_only": (None, "running"),
        "everything": {"run": "r", "old": None, "new": "running", "future_argument": 1},
        "method": "running",
        "none": True,
    }


def test_signatures_are_inspected_once_per_function() -> None:
    class Impl:
        def method(self, run: Any, new: Any) -> None: ...

    a, b = Impl(), Impl()
    assert accepted_arguments(a.method) == frozenset({"run", "new"})
    assert accepted_arguments(a.method) is accepted_arguments(b.method)


def test_unknown_hook_names_warn_with_close_matches() -> None:
    hooks = HookRegistry()
    with pytest.warns(UnknownHookWarning, match="'after_runn'.*Did you mean 'after_run'"):
        hooks.register("after_runn", lambda: None)
    assert hooks.implementations("after_runn")  # registered anyway


def test_an_exception_propagates_without_an_error_handler_and_goes_to_it_otherwise() -> None:
    def broken() -> None:
        raise ValueError("bug")

    plain = HookRegistry()
    plain.register("before_run", broken)
    with pytest.raises(ValueError, match="bug"):
        plain.apply("before_run")
    errors: list[str] = []
    handled = HookRegistry(on_error=lambda impl, exc, kwargs: errors.append(f"{impl.owner}: {exc}"))
    handled.register("before_run", broken, plugin="p")
    handled.register("before_run", lambda: "after")
    assert handled.apply("before_run") == "after"
    assert errors == ["p: bug"]


def test_every_issue_hook_point_is_known() -> None:
    expected = [
        "before_experiment_parameters",
        "experiment_constructed",
        "after_plugins_loaded",
        "before_experiment_initialize",
        "after_experiment_initialize",
        "before_run",
        "before_testing",
        "after_run",
        "after_experiment_finalize",
        "before_experiment_error",
        "experiment_commit_fig",
        "experiment_commit_json",
        "experiment_commit_raw",
        "experiment_track",
        "run_state_changed",
        "metrics_logged",
        "artifact_saved",
        "run_finishing",
        "sweep_started",
        "sweep_finished",
        "cli_register_commands",
    ]
    assert list(HOOKS) == expected
    from runlab.lifecycle import EVENTS

    assert set(EVENTS) <= set(HOOKS)


def test_the_reference_page_documents_every_hook() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name in HOOKS:
        assert f"| `{name}` |" in page
