"""The plain-script style: run_script, Script, ScriptExecutor, entry points, injection and loading."""

from __future__ import annotations

import json
import pickle
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any, ClassVar

import pytest

import runlab
from runlab.experiment import Script, ScriptExecutor, exec_file, script_params
from runlab.params import Config, ConfigGenerator, parse_overrides
from runlab.plugins import Plugin, get_manager, hook

from ..conftest import REPO, run_python

EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _no_user_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only runlab's built-in plugins, and no desktop to notify."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RUNLAB_PLUGIN_PATH", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def user_params(run: Any) -> dict[str, Any]:
    """The run's parameters without the special ones plugins add (``__NOTIFY__``)."""
    return {k: v for k, v in run.params.items() if not k.startswith("__")}


# -- the seed's examples ------------------------------------------------------------------


def test_seed_hello_with_hello_config(root: Path) -> None:
    run = runlab.run_script(EXAMPLES / "scripts/hello.py", EXAMPLES / "configs/hello_config.py", root=root)
    assert isinstance(run, runlab.Run)
    rec = runlab.load(run.id, root=root)
    assert rec.status == "completed"
    assert rec.namespace == "hello" and rec.experiment == "hello"
    assert rec.data["result"] == "Welcome to, KohakuEngine!"
    assert user_params(rec) == {"name": "KohakuEngine", "greeting": "Welcome to"}
    assert (rec.path / "out.log").read_text().splitlines() == ["Welcome to, KohakuEngine!"]
    origin = rec.metadata["origin"]
    assert origin == {
        "style": "script",
        "path": str((EXAMPLES / "scripts/hello.py").resolve()),
        "entrypoint": None,
        "args": [],
        "kwargs": {"excited": True},
        "via": "run_script",
    }
    assert rec.metadata["source"] == origin["path"]
    assert (rec.path / "code").is_dir()  # captured like any run


def test_seed_sweep_config_gives_nine_runs(root: Path) -> None:
    runs = runlab.run_script(EXAMPLES / "scripts/train.py", str(EXAMPLES / "configs/sweep_config.py"), root=root,
                             capture=False)  # fmt: skip
    assert isinstance(runs, list) and len(runs) == 9
    records = [runlab.load(r.id, root=root) for r in runs]
    seen = [(r.params["learning_rate"], r.params["batch_size"]) for r in records]
    assert seen == [(lr, bs) for lr in (0.001, 0.01, 0.1) for bs in (16, 32, 64)]
    losses: dict[tuple[float, int], float] = {}
    for rec, (lr, bs) in zip(records, seen, strict=True):
        assert rec.status == "completed"
        assert rec.params["experiment_name"] == f"lr{lr}_bs{bs}"
        assert rec.data["config"]["metadata"]["sweep"] == "lr_bs"
        losses[(lr, bs)] = rec.data["result"]
        assert f"[lr{lr}_bs{bs}] epoch 4" in (rec.path / "out.log").read_text()
        assert rec.metadata["params"]["learning_rate"]["description"] == "step size of SGD"
    assert losses[(0.1, 16)] < 0.01 < losses[(0.001, 64)]  # a real fit: larger steps converge
    assert len(runlab.runs(root=root, status="completed")) == 9


def test_example_scripts_run_with_plain_python(tmp_path: Path) -> None:
    out = run_python(f"import runpy; runpy.run_path({str(EXAMPLES / 'scripts/hello.py')!r}, run_name='__main__')")
    assert out.stdout == "Hello, World\n"
    out = run_python(f"import runpy; runpy.run_path({str(EXAMPLES / 'scripts/train.py')!r}, run_name='__main__')")
    assert out.stdout.count("[baseline] epoch") == 5


def test_context_style_script_joins_the_script_run(root: Path) -> None:
    run = runlab.run_script(EXAMPLES / "scripts/context_style.py", root=root, capture=False)
    assert len(runlab.runs(root=root)) == 1  # one run, not two
    rec = runlab.load(run.id, root=root)
    assert rec.status == "completed" and rec.namespace == "context_style"
    assert user_params(rec) == {"steps": 5, "decay": 0.5}
    assert rec.metrics("loss").steps == [0, 1, 2, 3, 4]
    assert rec.metrics("loss").values[-1] == pytest.approx(0.5**5)
    assert rec.artifacts == ["summary.txt"]
    assert rec.metadata["origin"]["style"] == "context"  # `runlab rerun` gives the block its params back


def test_params_given_to_run_script_override_a_context_block(root: Path) -> None:
    """What `runlab rerun` does for a context-style script: record params, the block reads them."""
    run = runlab.run_script(EXAMPLES / "scripts/context_style.py", root=root, params={"steps": 2}, capture=False)
    rec = runlab.load(run.id, root=root)
    assert user_params(rec) == {"steps": 2, "decay": 0.5}
    assert rec.metrics("loss").steps == [0, 1]


# -- entry points --------------------------------------------------------------------------

FUNCS = """
def a():
    return "a"

def b():
    return "b"

def main():
    return "main"
"""


@pytest.mark.parametrize(
    ("source", "path_suffix", "explicit", "expected"),
    [
        (FUNCS + "import runlab\n@runlab.entrypoint\ndef c():\n    return 'c'\n"
         "if __name__ == '__main__':\n    a()\n", ":b", "main", "main"),  # explicit argument first
        (FUNCS + "from runlab import entrypoint\n@entrypoint\ndef c():\n    return 'c'\n", ":b", None, "b"),
        (FUNCS + "import runlab\n@runlab.entrypoint()\ndef c():\n    return 'c'\n"
         "if __name__ == '__main__':\n    a()\n", "", None, "c"),  # marked before the main block
        (FUNCS + "if __name__ == '__main__':\n    print('start')\n    a()\n", "", None, "a"),
        (FUNCS + "import sys\nif __name__ == '__main__':\n    sys.exit(b())\n", "", None, "b"),
        (FUNCS + "if __name__ == '__main__':\n    raise SystemExit(a())\n", "", None, "a"),
        (FUNCS + "if '__main__' == __name__:\n    result = b()\n", "", None, "b"),
        (FUNCS, "", None, "main"),  # main() last
    ],
)  # fmt: skip
def test_entrypoint_discovery_order(
    root: Path, tmp_path: Path, source: str, path_suffix: str, explicit: str | None, expected: str
) -> None:
    script = write(tmp_path, "order.py", source)
    run = runlab.run_script(f"{script}{path_suffix}", entrypoint=explicit, root=root, capture=False)
    assert run.data["result"] == expected
    assert run.metadata["origin"]["entrypoint"] == (explicit or path_suffix[1:] or None)


def test_async_entrypoint_in_main_block(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "aio.py",
        """
        import asyncio
        async def main(n=2):
            await asyncio.sleep(0)
            return n * 2
        if __name__ == "__main__":
            asyncio.run(main())
    """,
    )
    assert runlab.run_script(script, Config(kwargs={"n": 5}), root=root, capture=False).data["result"] == 10


def test_main_block_runs_once_as_the_entry_point_when_no_function_is_found(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "block.py",
        """
        total = 1
        if __name__ == "__main__":
            total = 100  # the injected value wins here too
            print("block ran with", total)
        else:
            print("imported")
    """,
    )
    run = runlab.run_script(script, {"total": 7}, root=root, capture=False)
    assert (run.path / "out.log").read_text() == "block ran with 7\n"
    assert "result" not in run.data


def test_a_script_with_neither_runs_its_top_level(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "flat.py", "print('top', x)\n")
    run = runlab.run_script(script, {"x": 3}, root=root, capture=False)
    assert run.status == "completed" and (run.path / "out.log").read_text() == "top 3\n"


def test_main_block_call_runs_once_and_the_file_defaults_never_run(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "once.py",
        """
        import pathlib
        log = pathlib.Path(__file__).with_name("calls.txt")
        lr = 0.5
        def train():
            with log.open("a") as f:
                f.write(f"{lr}\\n")
            return lr
        if __name__ == "__main__":
            train()
    """,
    )
    assert runlab.run_script(script, {"lr": 0.1}, root=root, capture=False).data["result"] == 0.1
    assert (tmp_path / "calls.txt").read_text() == "0.1\n"  # once, and never with the default 0.5


def test_main_block_that_builds_its_own_arguments_runs_as_with_python(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "cli.py",
        """
        import argparse
        def main(args):
            return args.epochs * scale
        scale = 1
        if __name__ == "__main__":
            parser = argparse.ArgumentParser()
            parser.add_argument("--epochs", type=int, default=3)
            main(parser.parse_args())
    """,
    )
    run = runlab.run_script(script, {"scale": 2}, root=root, capture=False)
    assert run.status == "completed"  # main(args) cannot be called bare: the block ran instead


def test_args_and_the_kwargs_a_signature_accepts(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "sig.py",
        """
        def main(a, b=0, *, c=1):
            return [a, b, c]
        def loose(a, **options):
            return [a, options]
    """,
    )
    config = Config(args=[1], kwargs={"b": 2, "c": 3, "ignored": True})
    assert runlab.run_script(script, config, root=root, capture=False).data["result"] == [1, 2, 3]
    loose = runlab.run_script(f"{script}:loose", config, root=root, capture=False)
    assert loose.data["result"] == [1, {"b": 2, "c": 3, "ignored": True}]


def test_an_argument_mismatch_fails_the_run_clearly(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "sig.py", "def main(a):\n    return a\n")
    with pytest.raises(runlab.ValidationError, match=r"Cannot call main\(a\) with args \[1, 2\]"):
        runlab.run_script(script, Config(args=[1, 2]), root=root, capture=False)
    [rec] = runlab.runs(root=root)
    assert rec.status == "failed" and "Cannot call main(a)" in rec.metadata["error"]["message"]


# -- injection and loading ----------------------------------------------------------------


def test_injected_values_beat_top_level_defaults(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "defaults.py",
        """
        lr = 0.1
        scaled = lr * 10
        decay: float = 0.5
        a, (b, *rest) = 1, (2, 3, 4)
        try:
            device = "cuda"
        except Exception:
            device = "cpu"
        epochs = steps = 3
        def main():
            return [lr, scaled, decay, a, b, rest, device, epochs, steps, __annotations__]
    """,
    )
    values = {"lr": 1.0, "decay": 0.9, "b": 20, "rest": [], "device": "cpu", "steps": 9}
    run = runlab.run_script(script, values, root=root, capture=False)
    assert run.data["result_repr"] == repr([1.0, 10.0, 0.9, 1, 20, [], "cpu", 3, 9, {"decay": float}])
    assert user_params(run) == {**values, "epochs": 3}  # the literal defaults are recorded too


def test_a_run_without_config_records_the_scripts_defaults(root: Path) -> None:
    run = runlab.run_script(EXAMPLES / "scripts/train.py", root=root, capture=False)
    assert user_params(run) == {
        "learning_rate": 0.01,
        "batch_size": 32,
        "experiment_name": "baseline",
        "epochs": 5,
        "seed": 0,
    }
    assert run.metadata["params"]["batch_size"] == {
        "value": 32,
        "type": "int",
        "description": "samples per step",
        "usable": True,
    }
    assert run.metadata["origin"]["style"] == "script"


def test_injection_is_what_kohakuengine_does_for_names_the_script_lacks(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "extra.py", "def main():\n    return extra\n")
    assert runlab.run_script(script, {"extra": [1]}, root=root, capture=False).data["result"] == [1]


def test_tracebacks_show_the_script_file_and_line(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "boom.py",
        """
        lr = 0.1
        batch = 32

        def main():
            x = lr * batch
            raise ValueError(f"diverged at {x}")
    """,
    )
    with pytest.raises(ValueError, match=r"diverged at 3\.2") as info:
        runlab.run_script(script, {"lr": 0.1}, root=root, capture=False)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert (frames[-1].filename, frames[-1].lineno, frames[-1].name) == (str(script), 6, "main")
    [rec] = runlab.runs(root=root)
    assert rec.status == "failed"
    error = rec.metadata["error"]
    assert error["type"] == "ValueError"
    assert f'File "{script}", line 6, in main' in error["traceback"]


def test_sibling_imports_work_and_are_forgotten_afterwards(root: Path, tmp_path: Path) -> None:
    one = write(tmp_path, "one/run.py", "import helper\ndef main():\n    return helper.VALUE\n")
    write(tmp_path, "one/helper.py", "VALUE = 'one'\n")
    two = write(tmp_path, "two/run.py", "import helper\ndef main():\n    return helper.VALUE\n")
    write(tmp_path, "two/helper.py", "VALUE = 'two'\n")
    assert runlab.run_script(one, root=root, capture=False).data["result"] == "one"
    assert "helper" not in sys.modules
    assert runlab.run_script(two, root=root, capture=False).data["result"] == "two"


def test_the_script_runs_as_main_and_everything_is_restored(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "where.py",
        """
        import sys
        def main():
            return [__name__, getattr(sys.modules["__main__"], "__file__", None) == __file__, sys.path[0], sys.argv]
    """,
    )
    main, path, argv = sys.modules["__main__"], list(sys.path), list(sys.argv)
    run = runlab.run_script(script, root=root, capture=False)
    assert run.data["result"] == ["__main__", True, str(tmp_path), [str(script)]]
    assert sys.modules["__main__"] is main and sys.path == path and sys.argv == argv
    assert not (tmp_path / "__pycache__").exists()
    failing = write(tmp_path, "fail.py", "import sys\nsys.path.append('x')\nraise KeyError('k')\n")
    with pytest.raises(KeyError):
        runlab.run_script(failing, root=root, capture=False)
    assert sys.modules["__main__"] is main and sys.path == path and sys.argv == argv
    imported = runlab.run_script(script, run_as_main=False, root=root, capture=False)
    assert imported.data["result"][0] == "where" and "where" not in sys.modules


def test_pickling_the_scripts_functions_and_classes_works_while_it_runs(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "pick.py",
        """
        import dataclasses, pickle

        @dataclasses.dataclass
        class Point:
            x: int

        def square(v):
            return v * v

        def main():
            fn = pickle.loads(pickle.dumps(square))
            point = pickle.loads(pickle.dumps(Point(3)))
            return fn(point.x)
    """,
    )
    assert runlab.run_script(script, root=root, capture=False).data["result"] == 9


def test_module_functions_work_inside_a_script(root: Path, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "funcs.py",
        """
        import runlab
        lr = 0.1
        def main():
            for step in range(3):
                runlab.log_results({"acc": lr * step}, step=step)
            runlab.log_text("notes", "notes.txt")
            return runlab.get_param("lr")
    """,
    )
    run = runlab.run_script(script, {"lr": 0.5}, root=root, capture=False)
    rec = runlab.load(run.id, root=root)
    assert rec.data["result"] == 0.5 and rec.metrics("acc").values == [0.0, 0.5, 1.0]
    assert rec.artifacts == ["notes.txt"]
    stop = write(tmp_path, "stop.py", "import runlab\nrunlab.fail('diverged')\nprint('not reached')\n")
    stopped = runlab.run_script(stop, root=root, capture=False)  # ends the run, raises nothing
    assert stopped.status == "failed" and stopped.metadata["error"]["message"] == "diverged"


@pytest.mark.parametrize(("code", "status"), [("0", "completed"), ("None", "completed"), ("3", "failed")])
def test_system_exit(root: Path, tmp_path: Path, code: str, status: str) -> None:
    script = write(tmp_path, "exits.py", f"import sys\nprint('bye')\nsys.exit({code})\n")
    if status == "failed":
        with pytest.raises(SystemExit):
            runlab.run_script(script, root=root, capture=False)
        [rec] = runlab.runs(root=root)
    else:
        rec = runlab.load(runlab.run_script(script, root=root, capture=False).id, root=root)
    assert rec.status == status


def test_keyboard_interrupt_cancels_and_propagates(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "ctrl_c.py", "def main():\n    raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        runlab.run_script(script, root=root, capture=False)
    assert [r.status for r in runlab.runs(root=root)] == ["cancelled"]


def test_a_sweep_stops_at_the_first_failing_run(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "step.py", "x = 1\ndef main():\n    return 1 / x\n")
    gen = ConfigGenerator(Config(globals_dict={"x": x}) for x in (1, 0, 2))
    with pytest.raises(ZeroDivisionError):
        runlab.run_script(script, gen, root=root, capture=False)
    statuses = sorted((r.params["x"], r.status) for r in runlab.runs(root=root))
    assert statuses == [(0, "failed"), (1, "completed")]


def test_results_and_arguments_that_are_not_json(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "obj.py", "def main(x, model=None):\n    return object()\n")
    run = runlab.run_script(script, Config(args=[object()], kwargs={"model": object(), "n": 1}), entrypoint="main",
                            root=root, capture=False)  # fmt: skip
    assert run.data["result_repr"].startswith("<object object")
    origin = runlab.load(run.id, root=root).metadata["origin"]
    assert origin["args"] is None and origin["kwargs"] == {"n": 1}
    assert origin["unrecorded"] == ["args", "kwargs.model"]


def test_script_executor_and_script(root: Path, tmp_path: Path) -> None:
    script_path = write(tmp_path, "double.py", '"""Doubles x."""\nx = 1\ndef main():\n    return 2 * x\n')
    script = Script(script_path, Config(globals_dict={"x": 4}))
    executor = ScriptExecutor(script, root=root, namespace="math", tags=["t"], capture=False)
    run = executor.execute()
    assert (run.data["result"], executor.result, executor.module.x) == (8, 8, 4)  # type: ignore[union-attr]
    assert run.namespace == "math" and run.tags == ["t"] and run.metadata["description"] == "Doubles x."
    assert executor.execute({"x": 5}).data["result"] == 10
    assert "double.py" in repr(script)
    with pytest.raises(runlab.ValidationError, match="several configs"):
        ScriptExecutor(Script(script_path, [Config()]), root=root).request()
    several = ScriptExecutor(Script(script_path, [Config({"x": 1}), Config({"x": 2})]), root=root, capture=False)
    assert [r.data["result"] for r in several.execute()] == [2, 4]  # one run per config (KohakuEngine's generators)


def test_params_are_recorded_but_not_injected(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "seen.py", "def main():\n    return 'note' in globals()\n")
    run = runlab.run_script(script, {"x": 1}, root=root, params={"note": "from rerun"}, links={"rerun_of": "abc"},
                            capture=False)  # fmt: skip
    assert run.data["result"] is False
    assert user_params(run) == {"note": "from rerun", "x": 1}
    assert run.metadata["rerun_of"] == "abc"


def test_exec_file_runs_a_whole_file_and_restores_the_interpreter(tmp_path: Path) -> None:
    write(tmp_path, "lib.py", "NAME = 'lib'\n")
    script = write(
        tmp_path,
        "full.py",
        """
        import sys, lib
        args = sys.argv[1:]
        if __name__ == "__main__":
            ran = lib.NAME + greeting
    """,
    )
    main = sys.modules["__main__"]
    module = exec_file(script, argv=[str(script), "--LR=1"], inject={"greeting": "!"})
    assert module.ran == "lib!" and module.args == ["--LR=1"]
    assert sys.modules["__main__"] is main and "lib" not in sys.modules
    assert not hasattr(exec_file(script, as_main=False), "ran")
    with pytest.raises(runlab.ValidationError, match="Cannot inject '__name__'"):
        exec_file(script, inject={"__name__": "x"})


# -- bad input ----------------------------------------------------------------------------

TWO_MARKED = "import runlab\n@runlab.entrypoint\ndef a(): pass\n@runlab.entrypoint\ndef b(): pass\n"


@pytest.mark.parametrize(
    ("name", "source", "target", "config", "error", "match"),
    [
        ("missing", None, "nope.py", None, runlab.ExperimentNotFoundError, r"No such script: .*nope\.py"),
        ("folder", None, ".", None, runlab.ValidationError, "is a folder"),
        ("notes.txt", "print(1)\n", "notes.txt", None, runlab.ValidationError, r"must be Python files ending in \.py"),
        ("syntax.py", "x = 1\n\ndef main(:\n    pass\n", "syntax.py", None, runlab.ValidationError,
         r"Syntax error in .*syntax\.py, line 3"),
        ("ep.py", FUNCS, "ep.py:train", None, runlab.ValidationError,
         r"Entry point 'train' not found in .*ep\.py; the script defines these functions: a, b, main"),
        ("marked.py", TWO_MARKED, "marked.py", None, runlab.ValidationError, r"marks several functions .*\(a, b\)"),
        ("prot.py", FUNCS, "prot.py", {"__file__": "x"}, runlab.ValidationError, "Cannot inject '__file__'"),
        ("prot2.py", FUNCS, "prot2.py", [Config({"x": 1}), Config({"__builtins__": {}})], runlab.ValidationError,
         "Cannot inject '__builtins__'"),
        ("ident.py", FUNCS, "ident.py", {"a-b": 1}, runlab.ValidationError, "must be Python identifiers"),
        ("cfg.py", FUNCS, "cfg.py", 42, runlab.ValidationError, "Invalid config 42"),
        ("cfgfile.py", FUNCS, "cfgfile.py", "missing.yml", runlab.ConfigError, "missing.yml"),
    ],
)  # fmt: skip
def test_bad_input_is_a_usage_error_and_leaves_no_run_running(
    root: Path, tmp_path: Path, name: str, source: str | None, target: str, config: Any,
    error: type[Exception], match: str,
) -> None:  # fmt: skip
    if source is not None:
        write(tmp_path, name, source)
    with pytest.raises(error, match=match) as info:
        runlab.run_script(tmp_path / target if target != "." else tmp_path, config, root=root, capture=False)
    assert isinstance(info.value, runlab.UsageError)
    statuses = [r.status for r in runlab.runs(root=root)]
    assert "running" not in statuses and "created" not in statuses
    if name != "prot2.py":  # the valid first config of the sweep ran
        assert statuses == []


def test_a_missing_entrypoint_that_cannot_be_known_statically_fails_the_run(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "dyn.py", "globals()['made'] = lambda: 1\ndef main():\n    return 0\n")
    assert runlab.run_script(f"{script}:made", root=root, capture=False).data["result"] == 1
    with pytest.raises(runlab.ValidationError, match=r"Entry point 'ghost' not found .* functions: main"):
        runlab.run_script(script, entrypoint="ghost", root=root, capture=False)
    assert sorted(r.status for r in runlab.runs(root=root)) == ["completed", "failed"]


# -- parameters read statically -----------------------------------------------------------


def test_script_params_read_any_case_with_types_and_descriptions(tmp_path: Path) -> None:
    params = script_params(EXAMPLES / "scripts/train.py")
    assert sorted(params) == ["batch_size", "epochs", "experiment_name", "learning_rate", "seed"]
    lr = params["learning_rate"]
    assert (lr.type, lr.default, lr.description) == (float, 0.01, "step size of SGD")
    assert parse_overrides(["--learning_rate=0.1", "--batch_size", "8"], params) == {
        "learning_rate": 0.1,
        "batch_size": 8,
    }
    with pytest.raises(runlab.ParameterError, match="Did you mean 'learning_rate'"):
        parse_overrides(["--learnin_rate=0.1"], params)
    with pytest.raises(runlab.ParameterError, match="batch_size"):
        parse_overrides(["--batch_size=many"], params)
    script = write(
        tmp_path,
        "kinds.py",
        """
        from pathlib import Path
        # Where the data lives.
        data: Path = Path("data")
        _private = 1
        LOUD = [1, 2]
        model = object()
        a = b = "x"
        if True:
            nested = 1
    """,
    )
    kinds = script_params(script)
    assert sorted(kinds) == ["LOUD", "a", "b", "data"]
    assert (kinds["data"].type, kinds["data"].default, kinds["data"].description) == (
        Path,
        None,
        "Where the data lives.",
    )
    assert parse_overrides(["--data=/tmp/x"], kinds) == {"data": Path("/tmp/x")}
    with pytest.raises(runlab.ValidationError, match="line 1"):
        script_params(write(tmp_path, "bad.py", "def (:\n"))


# -- plugins ------------------------------------------------------------------------------


class Lifecycle(Plugin):
    """Records the experiment hooks in the order they fire."""

    name = "lifecycle"
    seen: ClassVar[list[tuple[str, Any]]] = []

    @hook("experiment_constructed")
    def constructed(self, experiment: Any) -> None:
        self.seen.append(("experiment_constructed", type(experiment).__name__))

    @hook("before_experiment_parameters")
    def parameters(self, experiment: Any, parameters: dict[str, Any]) -> None:
        parameters["__SEEN__"] = True
        self.seen.append(("before_experiment_parameters", parameters.get("x")))

    @hook("before_experiment_initialize")
    def before_init(self, experiment: Any) -> None:
        self.seen.append(("before_experiment_initialize", experiment.name))

    @hook("after_experiment_initialize")
    def after_init(self, run: Any) -> None:
        self.seen.append(("after_experiment_initialize", run.status))

    @hook("before_run")
    def before_run(self, run: Any) -> None:
        self.seen.append(("before_run", run.status))

    @hook("after_run")
    def after_run(self, run: Any, result: Any) -> None:
        self.seen.append(("after_run", result))

    @hook("before_experiment_error")
    def error(self, error: BaseException) -> None:
        self.seen.append(("before_experiment_error", type(error).__name__))

    @hook("after_experiment_finalize")
    def finalize(self, run: Any) -> None:
        self.seen.append(("after_experiment_finalize", run.status))


def test_plugin_hooks_fire_in_the_driver_order(root: Path, tmp_path: Path) -> None:
    Lifecycle.seen = []
    get_manager().add(Lifecycle)
    script = write(tmp_path, "hooked.py", "x = 1\ndef main():\n    return x + 1\n")
    run = runlab.run_script(script, {"x": 2}, root=root, capture=False)
    assert Lifecycle.seen == [
        ("experiment_constructed", "Script"),
        ("before_experiment_parameters", 2),
        ("before_experiment_initialize", "hooked"),
        ("after_experiment_initialize", "created"),
        ("before_run", "running"),
        ("after_run", 3),
        ("after_experiment_finalize", "completed"),
    ]
    assert "__SEEN__" not in run.params  # a special parameter a plugin offers: not for a plain script
    Lifecycle.seen = []
    failing = write(tmp_path, "hooked_fail.py", "def main():\n    raise RuntimeError('no')\n")
    with pytest.raises(RuntimeError):
        runlab.run_script(failing, root=root, capture=False)
    assert [name for name, _ in Lifecycle.seen][-2:] == ["before_experiment_error", "after_experiment_finalize"]
    assert Lifecycle.seen[-1] == ("after_experiment_finalize", "failed")
    json.dumps(run.metadata["origin"])  # the origin is JSON
    assert pickle.loads(pickle.dumps(run.metadata["origin"])) == run.metadata["origin"]


def test_a_script_named_like_an_imported_module_does_not_hide_it(root: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "json.py", "import json as j\ndef main():\n    return [__name__, j.dumps([1])]\n")
    stdlib = sys.modules["json"]
    run = runlab.run_script(script, run_as_main=False, root=root, capture=False)
    assert run.data["result"] == ["json", "[1]"] and sys.modules["json"] is stdlib


def test_special_parameters_a_plugin_offers_stay_out_of_a_plain_script(tmp_path: Path) -> None:
    pytest.importorskip("desktop_notifier")
    from runlab.plugins import get_manager

    assert "notify" in get_manager().active()  # it offers __NOTIFY__ through before_experiment_parameters
    script = tmp_path / "plain.py"
    script.write_text("LR = 0.1\n")
    run = runlab.run_script(script, root=tmp_path / "runs")
    assert runlab.load(run.id, root=tmp_path / "runs").params == {"LR": 0.1}


@pytest.mark.parametrize(
    ("body", "metrics"),
    [
        ("return X * 2", {"result": 6}),
        ("return {'acc': 0.5, 'n': X, 'label': 'x', 'ok': True}", {"result/acc": 0.5, "result/n": 3}),
        ("return 'text'", {}),
        ("runlab.log_results({'result': 1.5}, step=0)\n    return 9", {"result": 1.5}),
    ],
)
def test_a_numeric_result_is_a_metric_to_list_sort_and_filter(
    tmp_path: Path, body: str, metrics: dict[str, float]
) -> None:
    script = tmp_path / "res.py"
    script.write_text(f"import runlab\nX = 3\ndef main():\n    {body}\n")
    root = tmp_path / "runs"
    run = runlab.run_script(script, root=root, capture=False)
    record = runlab.load(run.id, root=root)
    assert {k: s.last for k, s in record.summaries.items()} == metrics
    if "result" in metrics:
        assert [r.id for r in runlab.runs(where=f"metrics.result == {metrics['result']}", root=root)] == [run.id]


@pytest.mark.parametrize(
    ("config_text", "error", "expected"),
    [
        ("parameters: {N_POINTS: '7'}\n", None, 7),  # was: the text '7' injected into an int global
        ("parameters: {N_POINTS: 3}\n", None, 3),
        ("parameters: {N_POINTS: abc}\n", runlab.ParameterError, "N_POINTS"),  # was: the run failed inside range()
        ("parameters: {N_POINTS: 2}\nsearch: {N_POINTS: {int: [1, 9]}}\n", runlab.ConfigError, "search: section"),
    ],
    ids=["quoted number", "number", "not a number", "search section"],
)
def test_run_script_types_a_config_files_values_as_runlab_run_c_does(
    tmp_path: Path, config_text: str, error: type[Exception] | None, expected: Any
) -> None:
    script = tmp_path / "prep.py"
    script.write_text("N_POINTS = 5\nTOTAL = sum(range(N_POINTS))\n")
    config = tmp_path / "c.yml"
    config.write_text(config_text)
    root = tmp_path / "runs"
    if error is not None:
        with pytest.raises(error, match=expected):
            runlab.run_script(script, config, root=root, capture=False)
        assert not list(runlab.runs(root=root)) if root.exists() else True  # no run was made
        return
    run = runlab.run_script(script, config, root=root, capture=False)
    assert isinstance(run, runlab.Run) and run.params["N_POINTS"] == expected
