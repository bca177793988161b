"""A hook implementation naming an argument its hook never passes is refused when it registers.

The table: (misspelt argument) x (kind of implementation: bare function, plugin method added
from code, folder plugin, experiment-local hook, mixin hook), each refused with a
:class:`runlab.HookSignatureError` naming the hook and the argument, before any call.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab import Experiment, ExperimentMixin, HookSignatureError
from runlab.hooks import HOOKS, HookRegistry, check_signature
from runlab.plugins import Plugin, PluginManager, PluginState, hook

# (hook, misspelt argument, the argument meant); every hook here has a spec
MISSPELT = [
    ("after_run", "reslt", "result"),
    ("before_run", "rn", "run"),
]
PLUGIN_ONLY = [("run_state_changed", "neww", "new"), ("metrics_logged", "count", "counts")]


def _source(hook_name: str, arg: str, *, method: bool) -> str:
    if method:
        return f"def impl(self, {arg}):\n    return None\n"
    return f"def impl(e, {arg}):\n    return None\n"


def _function(hook_name: str, arg: str, *, method: bool) -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(_source(hook_name, arg, method=method), namespace)  # a function whose parameter is spelt `arg`
    return namespace["impl"]  # type: ignore[no-any-return]


def _register_plugin_method(tmp_path: Path, hook_name: str, arg: str) -> None:
    impl = hook(hook_name)(_function(hook_name, arg, method=True))
    cls = type("Misspelt", (Plugin,), {"name": "misspelt", "impl": impl})
    PluginManager(tmp_path, builtin=False).add(cls)


def _register_folder_plugin(tmp_path: Path, hook_name: str, arg: str) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "misspelt.py").write_text(
        "from runlab.plugins import Plugin, hook\n\n"
        "class Misspelt(Plugin):\n"
        "    @hook('run_finishing')\n"
        "    def fine(self, run, status):\n"
        "        pass\n\n"
        f"    @hook({hook_name!r})\n"
        f"    def impl(self, {arg}):\n"
        "        pass\n"
    )
    pm = PluginManager(tmp_path, builtin=False)
    [record] = pm.plugins()
    assert record.state is PluginState.FAILED
    assert pm.registry.hooks_of("misspelt") == []  # none of its hooks, not even the correct one
    raise HookSignatureError(record.notice)  # the notice is what `runlab plugins list` shows


def _register_experiment_hook(tmp_path: Path, hook_name: str, arg: str) -> None:
    experiment = Experiment(namespace="x", glob={"A": 1})
    experiment.hook(hook_name)(_function(hook_name, arg, method=False))


def _register_mixin_hook(tmp_path: Path, hook_name: str, arg: str) -> None:
    mixin = ExperimentMixin(glob={"B": 2})
    mixin.hook(hook_name)(_function(hook_name, arg, method=False))


KINDS = {
    "plugin method": _register_plugin_method,
    "folder plugin": _register_folder_plugin,
    "experiment hook": _register_experiment_hook,
    "mixin hook": _register_mixin_hook,
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("hook_name", "arg", "meant"), MISSPELT)
def test_a_misspelt_argument_is_refused_at_registration(
    tmp_path: Path, kind: str, hook_name: str, arg: str, meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(HookSignatureError) as info:
        KINDS[kind](tmp_path, hook_name, arg)
    message = str(info.value)
    assert f"hook {hook_name!r}" in message and f"argument {arg!r}" in message
    assert f"Did you mean {meant!r}?" in message
    assert ", ".join(HOOKS[hook_name].arguments) in message  # what the hook passes
    assert isinstance(info.value, (runlab.UsageError, TypeError))


@pytest.mark.parametrize("kind", ["plugin method", "folder plugin"])
@pytest.mark.parametrize(("hook_name", "arg", "meant"), PLUGIN_ONLY)
def test_plugin_hooks_of_the_run_core_are_checked_too(
    tmp_path: Path, kind: str, hook_name: str, arg: str, meant: str
) -> None:
    with pytest.raises(HookSignatureError, match=rf"hook '{hook_name}'.*argument '{arg}'.*Did you mean '{meant}'"):
        KINDS[kind](tmp_path, hook_name, arg)


def test_the_error_carries_the_hook_the_argument_and_the_implementation(tmp_path: Path) -> None:
    with pytest.raises(HookSignatureError) as info:
        _register_plugin_method(tmp_path, "after_run", "reslt")
    assert (info.value.hook, info.value.argument) == ("after_run", "reslt")
    assert info.value.implementation == "Misspelt.impl (plugin 'misspelt')"


@pytest.mark.parametrize(
    ("source", "accepted"),
    [
        ("def f(run, result): pass", True),  # the spec exactly
        ("def f(result): pass", True),  # a subset
        ("def f(): pass", True),  # nothing
        ("def f(**kwargs): pass", True),  # everything, also arguments added later
        ("def f(*args, run): pass", True),  # *args never filled, harmless
        ("def f(run, reslt=None): pass", False),  # a default does not excuse a misspelling
        ("def f(run, /): pass", False),  # positional-only: hooks pass keywords
        ("def f(run, *, extra): pass", False),
    ],
)
def test_what_a_plugin_hook_may_accept(source: str, accepted: bool) -> None:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    registry = HookRegistry()
    if accepted:
        registry.register("after_run", namespace["f"])
    else:
        with pytest.raises(HookSignatureError):
            registry.register("after_run", namespace["f"])
        assert registry.implementations("after_run") == []  # nothing half-registered


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def f(): pass", "no parameter for the experiment"),
        ("def f(**kwargs): pass", "no parameter for the experiment"),
        ("def f(e, /, reslt): pass", "'reslt'"),
    ],
)
def test_an_experiment_hook_needs_a_parameter_for_the_experiment(source: str, problem: str) -> None:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    with pytest.raises(HookSignatureError, match=problem):
        Experiment(namespace="x", glob={"A": 1}).hook("after_run")(namespace["f"])


def test_hooks_an_experiment_invents_are_not_checked_and_plugins_own_hooks_warn() -> None:
    experiment = Experiment(namespace="x", glob={"A": 1})
    experiment.hook("load_data")(lambda e, path, anything: (path, anything))  # no spec to check against
    assert experiment.apply_hook("load_data", path="p", anything=1) == ("p", 1)
    with pytest.warns(UserWarning, match="Unknown hook 'after_rnu'.*'after_run'"):
        HookRegistry().register("after_rnu", lambda anything: None)  # a plugin's own hook: no spec either


def test_check_signature_is_usable_alone() -> None:
    check_signature("before_run", lambda experiment, run: None, spec=HOOKS["before_run"])
    with pytest.raises(HookSignatureError, match="'runn'"):
        check_signature("before_run", lambda runn: None, spec=HOOKS["before_run"])


def test_runlab_run_refuses_a_misspelt_experiment_hook_in_one_line(tmp_path: Path) -> None:
    """The user's file registers a misspelt hook: exit 2, one line naming hook and argument, no run."""
    exp = tmp_path / "exp.py"
    exp.write_text(
        textwrap.dedent(
            """
            from runlab import Experiment

            LR = 0.1

            experiment = Experiment(namespace="exp", glob=globals())

            @experiment.hook("after_run")
            def report(e, reslt):
                print(reslt)

            @experiment
            def main(e):
                return 1

            experiment.run_if_main()
            """
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "runlab", "run", str(exp), "--root", str(tmp_path / "store")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert "hook 'after_run'" in out.stderr and "argument 'reslt'" in out.stderr
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").glob("*/*/run.json"))
