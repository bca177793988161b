"""KohakuEngine (seed 002): runlab.config, ConfigLoader, Script.run(), ScriptExecutor.execute(generator), run_file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab.config import Config, ConfigGenerator, ConfigLoader

from .conftest import EXAMPLES, example_tree, run_example

KOHAKU = EXAMPLES / "kohaku"


def test_python_api_example_runs_as_a_script(tmp_path: Path) -> None:
    before = example_tree()
    out = run_example([str(EXAMPLES / "kohaku_api.py")], tmp_path, tmp_path / "store")
    lines = [line for line in out.stdout.splitlines() if ":" in line and not line.startswith("LR")]
    assert lines == [
        "quick start: Hello, runlab",
        "cmd_run: Welcome to, KohakuEngine!",
        "sweep is a generator: True",
        "sweep runs: 9 [0.016, 0.032, 0.064]",
        "run inline: Hi, World",
        "run config_path: Welcome to, KohakuEngine!",
    ]
    records = runlab.runs(root=tmp_path / "store", namespace="train_simple", order_by="created")
    assert [(r.params["learning_rate"], r.params["batch_size"]) for r in records][:2] == [(0.001, 16), (0.001, 32)]
    assert records[0].params["experiment_name"] == "lr0.001_bs16"
    meta = records[0].data["config"]["metadata"]
    assert {k: meta[k] for k in ("sweep", "lr", "bs")} == {"sweep": "lr_bs", "lr": 0.001, "bs": 16}
    assert example_tree() == before


def test_cli_runs_the_seed_script_with_its_config(tmp_path: Path) -> None:
    out = run_example(["run", str(KOHAKU / "scripts/hello.py"), "-c", str(KOHAKU / "configs/hello_config.py")],
                      tmp_path, tmp_path / "store", module=True)  # fmt: skip
    assert out.stdout.splitlines()[0] == "Welcome to, KohakuEngine!"


@pytest.mark.parametrize(
    ("source", "kind", "values"),
    [
        ("CONFIG = Config(globals_dict={'x': 1})", Config, [1]),
        ("def config_gen():\n    return Config(globals_dict={'x': 2})", Config, [2]),
        ("def config_gen():\n    yield Config(globals_dict={'x': 3})", ConfigGenerator, [3]),
        (
            "def config_gen():\n    for x in (4, 5):\n        yield Config(globals_dict={'x': x})",
            ConfigGenerator,
            [4, 5],
        ),
        ("CONFIG = [Config(globals_dict={'x': 6}), Config(globals_dict={'x': 7})]", ConfigGenerator, [6, 7]),
    ],
)
def test_config_loader_returns_a_config_or_a_generator(
    tmp_path: Path, source: str, kind: type, values: list[int]
) -> None:
    path = tmp_path / "config.py"
    path.write_text("from runlab.config import Config\n" + source + "\n")
    loaded = ConfigLoader.load_config(path)
    assert isinstance(loaded, kind)
    got = [loaded] if isinstance(loaded, Config) else list(loaded)
    assert [c.globals_dict["x"] for c in got] == values


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (None, "Config file not found"),
        ("x = 1", "defines neither CONFIG nor config_gen"),
        ("def config_gen():\n    yield {'x': 1}", "must yield Config objects"),
        ("def config_gen():\n    raise KeyError('nope')", r"raised KeyError \(line 3\)"),
        ("CONFIG = 3", "must be a Config"),
    ],
)
def test_config_loader_errors_name_the_file(tmp_path: Path, source: str | None, match: str) -> None:
    path = tmp_path / "config.py"
    if source is not None:
        path.write_text("from runlab.config import Config\n" + source + "\n")
    with pytest.raises(runlab.ConfigError, match=match) as info:
        loaded = ConfigLoader.load_config(path)
        list(loaded) if isinstance(loaded, ConfigGenerator) else None
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("data", "error"),
    [({"globals": {"a": 1}, "args": [1], "kwargs": {"k": 2}, "metadata": {"m": 3}}, None),
     ({"globs": {}}, "Unknown config key 'globs'"), ([1], "must be a dict"), ({"args": "abc"}, "args must be a list")],
)  # fmt: skip
def test_load_from_dict(data: Any, error: str | None) -> None:
    if error is None:
        config = ConfigLoader.load_from_dict(data)
        assert (config.globals_dict, config.args, config.kwargs, config.metadata) == ({"a": 1}, [1], {"k": 2}, {"m": 3})
    else:
        with pytest.raises(runlab.ConfigError, match=error):
            ConfigLoader.load_from_dict(data)


def _counter_script(tmp_path: Path) -> Path:
    script = tmp_path / "count.py"
    script.write_text(
        "from pathlib import Path\n"
        "step = 0\n"
        "def main():\n"
        "    Path(f'done_{step}').write_text('x')\n"
        "    if step == 2:\n"
        "        raise RuntimeError('step 2 fails')\n"
        "    return step\n"
    )
    return script


def test_execute_asks_a_generator_for_each_config_after_the_previous_run(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def resume() -> Any:  # the seed's resume pattern: each config looks at what the last run left
        for step in range(2):
            seen.append(sorted(p.name for p in tmp_path.glob("done_*")))
            yield Config(globals_dict={"step": step})

    executor = runlab.ScriptExecutor(runlab.Script(_counter_script(tmp_path)), root=tmp_path / "store", capture=False)
    runs = executor.execute(ConfigGenerator(resume()))
    assert [r.data["result"] for r in runs] == [0, 1] and seen == [[], ["done_0"]]


def test_a_failing_run_stops_a_generator_and_is_recorded(tmp_path: Path) -> None:
    asked: list[int] = []

    def gen() -> Any:
        for step in range(5):
            asked.append(step)
            yield Config(globals_dict={"step": step})

    script = runlab.Script(_counter_script(tmp_path), config=ConfigGenerator(gen()))
    with pytest.raises(RuntimeError, match="step 2 fails"):
        script.run(root=tmp_path / "store", capture=False)
    assert asked == [0, 1, 2]
    statuses = [r.status for r in runlab.runs(root=tmp_path / "store", order_by="created")]
    assert statuses == ["completed", "completed", "failed"]


def test_script_run_with_a_single_config_and_a_list(tmp_path: Path) -> None:
    script = _counter_script(tmp_path)
    one = runlab.Script(script, config=Config(globals_dict={"step": 7})).run(root=tmp_path / "s", capture=False)
    assert isinstance(one, runlab.Run) and one.data["result"] == 7
    many = runlab.ScriptExecutor(runlab.Script(script), root=tmp_path / "s", capture=False).execute(
        [Config(globals_dict={"step": 3}), Config(globals_dict={"step": 4})]
    )
    assert [r.data["result"] for r in many] == [3, 4]
    with pytest.raises(runlab.ValidationError, match="config item 2"):
        runlab.ScriptExecutor(runlab.Script(script), root=tmp_path / "s", capture=False).execute(
            [Config(globals_dict={"step": 5}), 3]
        )  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"globals": {"name": "x"}}, "Unknown argument 'globals' for runlab.run_file"),
        ({"config_path": "c.py", "globals_dict": {"name": "x"}}, "either config_path='c.py' or config fields"),
        ({"config_path": "missing.py"}, "Config file not found"),
        ({"globals_dict": {"__name__": "x"}}, "__name__"),
    ],
)
def test_run_file_refuses_bad_input_before_any_run(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(runlab.UsageError, match=match):
        runlab.run_file(KOHAKU / "scripts/hello.py", root=tmp_path / "store", capture=False, **kwargs)
    assert len(runlab.runs(root=tmp_path / "store")) == 0


def test_run_file_with_a_generator_config_returns_every_run(tmp_path: Path) -> None:
    runs = runlab.run_file(KOHAKU / "scripts/train_simple.py", KOHAKU / "configs/sweep_config.py",
                           root=tmp_path / "store", capture=False)  # fmt: skip
    assert isinstance(runs, list) and len(runs) == 9
    assert runs[-1].data["result"] == pytest.approx(6.4)


def test_simple_workflow_example_runs_its_three_steps_in_order(tmp_path: Path) -> None:
    before = example_tree()
    out = run_example([str(KOHAKU / "workflows" / "simple_workflow.py")], tmp_path, tmp_path / "store")
    assert out.stdout.splitlines() == [
        "preprocessing ./data/raw",
        "LR: 0.001, BS: 32",
        "evaluating ./checkpoints/best.pt",
        "Workflow completed with 3 steps",
    ]
    records = runlab.runs(root=tmp_path / "store", order_by="created")
    assert [r.namespace for r in records] == ["preprocess", "train_simple", "evaluate"]
    assert records[1].params["data_dir"] == "./data/processed" and records[2].data["result"]["accuracy"] == 0.9
    assert all(r.status == "completed" for r in records)
    assert example_tree() == before


def test_config_loader_generator_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "lazy.py"
    path.write_text(
        "from runlab.config import Config\n"
        "asked = []\n"
        "def config_gen():\n"
        "    for i in range(3):\n"
        "        asked.append(i)\n"
        "        yield Config(globals_dict={'i': i, 'asked': list(asked)})\n"
    )
    gen = ConfigLoader.load_config(path)
    assert isinstance(gen, ConfigGenerator) and not gen.exhausted
    first = next(gen)
    assert first.globals_dict == {"i": 0, "asked": [0]}  # nothing asked beyond what was taken
    assert [c.globals_dict["asked"] for c in gen] == [[0, 1], [0, 1, 2]] and gen.exhausted
