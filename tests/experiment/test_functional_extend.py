"""Functional experiments built from others: extend, include (mixins), hook flags, configs, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab import Experiment, ExperimentMixin

from .test_functional import EXAMPLES, load_experiment, log_lines, stored, write

BASE = '''
"""The base experiment."""
from runlab import Experiment

SIZE: int = 10  # size of the problem
MODE = "fast"

experiment = Experiment(glob=globals())

@experiment.hook("before_run")
def base_before(e):
    e.log("base before")

@experiment.hook("get_data", default=True)
def default_data(e, n):
    return list(range(n))

@experiment.hook("describe")
def base_describe(e):
    return "base"

@experiment.testing
def small(e):
    e.SIZE = 2

@experiment.analysis
def base_analysis(e):
    return ("base", e.SIZE)

@experiment
def main(e):
    e["data"] = e.apply_hook("get_data", n=e.SIZE, unused="ignored")
    e["describe"] = e.apply_hook("describe")
    e["mode"] = MODE

experiment.run_if_main()
'''


@pytest.fixture
def in_store(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNLAB_ROOT", str(root))
    return root


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write(tmp_path, "base.py", BASE)


def test_extend_inherits_and_overrides(tmp_path: Path, base: Path, in_store: Path) -> None:
    plain = load_experiment(base).run()
    assert runlab.load(plain.id).data == {"data": list(range(10)), "describe": "base", "mode": "fast"}
    sub = load_experiment(
        write(
            tmp_path,
            "sub.py",
            '''
        """A sub-experiment."""
        from runlab import Experiment

        MODE = "slow"  # the sub's mode

        experiment = Experiment.extend("base.py", glob=globals())
        experiment.SIZE = 4

        @experiment.hook("get_data")
        def letters(e, n):
            return "abcdefgh"[:n]

        @experiment.hook("describe", replace=True)
        def sub_describe(e):
            return "sub"

        experiment.run_if_main()  # imported: nothing happens
    ''',
        )
    )
    assert sub.namespace == "sub" and sub.SIZE == 4 and sub.MODE == "slow"
    run = sub.run()
    rec = runlab.load(run.id)
    # the base's default get_data gives way to the sub's; describe is replaced; MODE read as a global of the base
    assert rec.data == {"data": "abcd", "describe": "sub", "mode": "slow"}
    assert rec.description == "A sub-experiment." and rec.namespace == "sub"
    assert rec.metadata["params"]["SIZE"]["description"] == "size of the problem"
    assert rec.metadata["params"]["MODE"]["description"] == "the sub's mode"
    assert log_lines(rec)[1:] == ["base before"]
    assert sub.run(__TESTING__=True).params["SIZE"] == 2  # the inherited testing function
    assert sub.analyse(run) == ("base", 4)  # the inherited analysis function
    assert sub.metadata["hooks"]["describe"]["num"] == 1 and sub.metadata["hooks"]["get_data"]["num"] == 1


def test_a_sub_experiment_may_define_its_own_main(tmp_path: Path, base: Path, in_store: Path) -> None:
    sub = load_experiment(
        write(
            tmp_path,
            "sub_main.py",
            """
        from runlab import Experiment
        experiment = Experiment.extend(experiment_path="base.py", glob=globals(), namespace="custom/ns")

        @experiment
        def run_sub(e):
            e.log("Sub code")
            e["size"] = e.SIZE
    """,
        )
    )
    run = sub.run(SIZE=3)
    rec = runlab.load(run.id)
    assert rec.data == {"size": 3} and rec.namespace == "custom/ns" and "Sub code" in log_lines(rec)


def test_include_orders_hooks_base_mixins_file_and_merges_parameters(
    tmp_path: Path, base: Path, in_store: Path
) -> None:
    for name in ("one", "two"):
        write(
            tmp_path,
            f"mixin_{name}.py",
            f'''
            from runlab import ExperimentMixin
            {name.upper()}_LEVEL: str = "{name}"  # level of mixin {name}
            SIZE = 99  # mixins do not override the experiment file's own values

            mixin = ExperimentMixin(glob=globals())

            @mixin.hook("before_run")
            def before(e):
                e.log("mixin {name} before " + e.{name.upper()}_LEVEL)

            @mixin.hook("after_run")
            def after(e):
                e.log("mixin {name} after")
        ''',
        )
    sub = load_experiment(
        write(
            tmp_path,
            "sub.py",
            """
        from runlab import Experiment
        SIZE = 5
        experiment = Experiment.extend("base.py", glob=globals())

        @experiment.hook("before_run")  # registered before the include, still runs after the mixins
        def mine(e):
            e.log("file before")

        experiment.include("mixin_one.py")
        experiment.include(["mixin_one.py", "mixin_two.py"])  # mixin_one counts once
    """,
        )
    )
    assert isinstance(sub.included[0], ExperimentMixin) and len(sub.included) == 2
    run = sub.run(TWO_LEVEL="loud")
    rec = runlab.load(run.id)
    assert log_lines(rec)[1:] == ["base before", "mixin one before one", "mixin two before loud", "file before",
                                  "mixin one after", "mixin two after"]  # fmt: skip
    assert rec.params["SIZE"] == 5 and rec.params["ONE_LEVEL"] == "one"
    assert rec.metadata["params"]["TWO_LEVEL"]["description"] == "level of mixin two"
    assert {"base.py", "mixin_one.py", "mixin_two.py"} <= {p.name for p in (rec.path / "code").iterdir()}


def test_hook_flags_and_apply_hook(in_store: Path) -> None:
    exp = Experiment(glob={"N": 1}, namespace="flags")
    calls: list[str] = []

    @exp.hook("pick", default=True)
    def fallback(e: Any) -> str:
        calls.append("fallback")
        return "fallback"

    assert exp.apply_hook("pick") == "fallback"  # a default runs when nothing else implements the hook

    @exp.hook("pick")
    def first(e: Any, x: int) -> int:
        calls.append("first")
        return x

    @exp.hook("pick")
    def second(e: Any, **kwargs: Any) -> None:
        calls.append(f"second {sorted(kwargs)}")

    calls.clear()
    assert exp.apply_hook("pick", x=3, y=4) == 3  # the last result that is not None
    assert calls == ["first", "second ['x', 'y']"]  # the default gave way; kwargs as the signature allows

    @exp.hook("pick", replace=True)
    def only(e: Any) -> str:
        return "only"

    calls.clear()
    assert exp.apply_hook("pick", x=1) == "only" and calls == []
    assert exp.apply_hook("nobody") is None
    with pytest.raises(runlab.ValidationError, match="Give the hook's name"):
        exp.hook(only)  # type: ignore[arg-type]


def test_from_config_builds_the_experiment_of_a_config_file(tmp_path: Path, in_store: Path) -> None:
    exp = Experiment.from_config(EXAMPLES / "experiment_config.yml")
    assert exp.LEARNING_RATE == 0.3 and exp.MIXIN_LOG_LEVEL == "DEBUG" and exp.namespace == "experiments/config"
    run = exp.run(NUM_EPOCHS=1)
    rec = runlab.load(run.id)
    assert rec.name == "from_config" and rec.description == "Config-based run"
    assert rec.params["LEARNING_RATE"] == 0.3 and rec.params["NUM_EPOCHS"] == 1 and rec.experiment == "base_experiment"
    assert "mixin: before_run (logging level: DEBUG)" in log_lines(rec)
    assert rec.metadata["origin"] == {"style": "functional", "path": str(EXAMPLES / "base_experiment.py"),
                                      "config": str(EXAMPLES / "experiment_config.yml"),
                                      "via": "Experiment.run"}  # fmt: skip
    sweep = write(
        tmp_path, "sweep.yml", f"extend: {EXAMPLES / 'base_experiment.py'}\nparameters:\n  NUM_EPOCHS: [1, 2]\n"
    )
    sweep.write_text(sweep.read_text().replace("[1, 2]", "choice(1, 2)"))
    with pytest.raises(runlab.ValidationError, match=r"expands to 2 configs.*runlab run"):
        Experiment.from_config(sweep)
    unknown = write(tmp_path, "bad.yml", f"extend: {EXAMPLES / 'base_experiment.py'}\nparameters:\n  NUM_EPOCH: 1\n")
    with pytest.raises(runlab.ParameterError, match=r"Unknown parameter 'NUM_EPOCH' .in .*bad\.yml.*'NUM_EPOCHS'"):
        Experiment.from_config(unknown)
    wrong = write(tmp_path, "wrong.yml", f"extend: {EXAMPLES / 'base_experiment.py'}\nparameters:\n  NUM_EPOCHS: x\n")
    with pytest.raises(runlab.ParameterError, match="Invalid value for 'NUM_EPOCHS'"):
        Experiment.from_config(wrong)


def test_bad_input_is_refused_before_any_run_exists(tmp_path: Path, base: Path, in_store: Path) -> None:
    exp = load_experiment(base)
    with pytest.raises(runlab.ParameterError, match=r"Unknown parameter 'SIZ'\. Did you mean 'SIZE'"):
        exp.run(SIZ=3)
    with pytest.raises(runlab.ParameterError, match="Invalid value for 'SIZE': 'big' is not a valid int"):
        exp.run(SIZE="big")
    with pytest.raises(runlab.ParameterError, match="Invalid value for 'SIZE'"):
        exp.run(SIZE=[1])
    plain = write(tmp_path, "plain.py", "X = 1\n")
    with pytest.raises(runlab.ExperimentNotFoundError, match=r"plain\.py defines no experiment to extend"):
        Experiment.extend("plain.py", glob={"__file__": str(tmp_path / "here.py")})
    with pytest.raises(runlab.ValidationError, match=r"Cannot find the base experiment file 'missing\.py'"):
        Experiment.extend("missing.py", glob={"__file__": str(plain)})
    write(tmp_path, "notes.txt", "hello")
    with pytest.raises(runlab.ValidationError, match=r"expected a Python file ending in \.py"):
        Experiment.extend(tmp_path / "notes.txt")
    with pytest.raises(runlab.ValidationError, match="Unknown option 'bsae_path'"):
        Experiment.extend(base, bsae_path=".")
    with pytest.raises(runlab.ValidationError, match=r"Cannot find the mixin file 'nomixin\.py'"):
        exp.include("nomixin.py")
    with pytest.raises(runlab.ExperimentNotFoundError, match=r"plain\.py defines no mixin to include"):
        exp.include(plain)
    write(
        tmp_path,
        "loop.py",
        "from runlab import Experiment\nexperiment = Experiment.extend('loop.py', glob=globals())\n",
    )
    with pytest.raises(runlab.ValidationError, match=r"cycle: loop\.py -> loop\.py\. A file cannot extend itself"):
        Experiment.extend("loop.py", glob={"__file__": str(plain)})
    no_main = Experiment(glob={"A": 1}, namespace="nomain")
    with pytest.raises(runlab.ValidationError, match="no main function: decorate one with @experiment"):
        no_main.run()
    assert stored(in_store) == []
