"""Config files: YAML/TOML/JSON/Python, merging, env, extend/include, bad input, the example configs."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from runlab.params import (
    Config,
    ConfigError,
    ConfigGenerator,
    interpolate_env,
    load_config,
    load_spec,
    read_file,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "configs"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_same_config_in_yaml_toml_and_json(tmp_path: Path) -> None:
    yml = write(tmp_path / "a.yml", "namespace: ns\nparameters:\n  LR: 0.1\n  LAYERS: [1, 2]\n")
    toml = write(tmp_path / "a.toml", 'namespace = "ns"\n[parameters]\nLR = 0.1\nLAYERS = [1, 2]\n')
    jsn = write(tmp_path / "a.json", '{"namespace": "ns", "parameters": {"LR": 0.1, "LAYERS": [1, 2]}}')
    loaded = [load_config(p) for p in (yml, toml, jsn)]
    assert all(len(c) == 1 for c in loaded)
    assert {c[0].id for c in loaded} == {loaded[0][0].id}
    assert loaded[0][0].globals_dict == {"LR": 0.1, "LAYERS": [1, 2]}  # a plain list is a value, not a sweep
    assert loaded[1][0].metadata["namespace"] == "ns" and loaded[2][0].metadata["config_id"] == loaded[2][0].id


def test_files_merge_left_to_right(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a.yml",
        """\
        namespace: base
        include: [m1.py]
        parameters: {LR: 0.1, OPT: {name: adam, beta: 0.9}}
        """,
    )
    b = write(tmp_path / "sub" / "b.json", '{"include": ["m2.py"], "parameters": {"OPT": {"beta": 0.5}}}')
    for name in ("m1.py", "sub/m2.py"):
        write(tmp_path / name, "X = 1\n")
    spec = load_spec(a, b)
    assert spec.parameters == {"LR": 0.1, "OPT": {"name": "adam", "beta": 0.5}}
    assert spec.namespace == "base" and spec.include == [tmp_path / "m1.py", tmp_path / "sub" / "m2.py"]
    assert spec.sources == [a, b]


def test_env_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RL_LR", "0.5")
    monkeypatch.setenv("RL_NAME", "x")
    path = write(
        tmp_path / "e.yml",
        """\
        name: run-${RL_NAME}
        parameters:
          LR: ${RL_LR}
          EPOCHS: ${RL_EPOCHS:-3}
          TEXT: "$${RL_NAME} ${RL_MISSING:-}"
        """,
    )
    config = load_config(path)[0]
    assert config.globals_dict == {"LR": 0.5, "EPOCHS": 3, "TEXT": "${RL_NAME} "}
    assert config.metadata["name"] == "run-x"
    assert interpolate_env(["${A:-1}x"], environ={}) == ["1x"]


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    write(tmp_path / "conf" / "exp.py", "LR = 0.1\n")
    write(tmp_path / "conf" / "mix.py", "M = 1\n")
    path = write(tmp_path / "conf" / "c.yml", "extend: exp.py\ninclude: mix.py\nroot: ../store\n")
    spec = load_spec(path)
    assert spec.extend == tmp_path / "conf" / "exp.py"
    assert spec.include == [tmp_path / "conf" / "mix.py"] and spec.root == tmp_path / "store"
    meta = spec.to_configs()[0].metadata
    assert meta["extend"] == str(tmp_path / "conf" / "exp.py") and meta["root"] == str(tmp_path / "store")


def test_extend_chain_of_config_files(tmp_path: Path) -> None:
    write(tmp_path / "exp.py", "LR = 0.1\n")
    write(tmp_path / "base.yml", "extend: exp.py\nnamespace: base\nparameters: {LR: 0.1, BS: 8}\n")
    write(tmp_path / "mid" / "mid.toml", 'extend = "../base.yml"\ndescription = "mid"\n[parameters]\nBS = 16\n')
    top = write(tmp_path / "top.yml", "extend: mid/mid.toml\nparameters: {LR: 0.2}\n")
    spec = load_spec(top)
    assert spec.parameters == {"LR": 0.2, "BS": 16}
    assert spec.extend == tmp_path / "exp.py" and spec.namespace == "base" and spec.description == "mid"
    assert [p.name for p in spec.sources] == ["base.yml", "mid.toml", "top.yml"]


def test_directory_of_yaml_files(tmp_path: Path) -> None:
    write(tmp_path / "d" / "b.yml", "parameters: {LR: 'choice(1, 2)'}\n")
    write(tmp_path / "d" / "a.yaml", "parameters: {LR: 0}\n")
    write(tmp_path / "d" / "exp.py", "raise SystemExit('not loaded')\n")
    write(tmp_path / "d" / "notes.txt", "ignored\n")
    assert [c.globals_dict["LR"] for c in load_config(tmp_path / "d")] == [0, 1, 2]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="No config files"):
        load_config(tmp_path / "empty")


def test_a_sweep_section_overrides_a_fixed_parameter(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yml", "parameters: {A: 0.5, B: 1}\nsweep: {A: [3, 4]}\n")
    assert [c.globals_dict for c in load_config(path)] == [{"A": 3, "B": 1}, {"A": 4, "B": 1}]


def test_sweep_section_and_modes(tmp_path: Path) -> None:
    grid = write(tmp_path / "g.yml", "parameters: {A: 1}\nsweep: {B: [1, 2], C.d: 'range(2)'}\n")
    assert [(c.globals_dict["B"], c.globals_dict["C"]) for c in load_config(grid)] == [
        (1, {"d": 0}), (1, {"d": 1}), (2, {"d": 0}), (2, {"d": 1})]  # fmt: skip
    zipped = write(tmp_path / "z.yml", "sweep: {B: [1, 2], C: [3, 4]}\nsweep_mode: zip\n")
    configs = load_config(zipped)
    assert [c.globals_dict for c in configs] == [{"B": 1, "C": 3}, {"B": 2, "C": 4}]
    assert configs[1].metadata["sweep_values"] == {"B": 2, "C": 4}
    assert len(load_config(zipped, write(tmp_path / "g2.yml", "sweep_mode: grid\n"))) == 4


# --- Python configs -------------------------------------------------------------------------


def test_python_config_forms(tmp_path: Path) -> None:
    one = write(tmp_path / "one.py", "from runlab.params import Config\nCONFIG = Config(globals_dict={'A': 1})\n")
    many = write(
        tmp_path / "many.py",
        """\
        from runlab.params import Config, choice
        def config_gen():
            for i in range(2):
                yield Config(globals_dict={'I': i, 'S': choice('x', 'y')}, args=[i])
        """,
    )
    listed = write(tmp_path / "listed.py", "from runlab.params import Config\nCONFIG = [Config(), Config(args=(1,))]\n")
    helper = write(tmp_path / "helper.py", "VALUE = 7\n")
    uses = write(tmp_path / "uses.py", "from helper import VALUE\nfrom runlab.params import Config\n"
                                       "def config_gen():\n    return Config({'V': VALUE})\n")  # fmt: skip
    assert load_config(one)[0].globals_dict == {"A": 1}
    assert [(c.globals_dict["I"], c.globals_dict["S"], c.args) for c in load_config(many)] == [
        (0, "x", [0]), (0, "y", [0]), (1, "x", [1]), (1, "y", [1])]  # fmt: skip
    assert [c.args for c in load_config(listed)] == [[], [1]]
    assert helper.exists() and load_config(uses)[0].globals_dict == {"V": 7}
    assert "helper" not in sys.modules  # the config's sibling import is forgotten: another folder's helper wins


def test_config_validates_and_round_trips() -> None:
    config = Config.from_dict({"globals": {"A": 1}, "args": [1], "kwargs": {"k": 2}, "metadata": {"m": 3}})
    assert Config.from_dict(config.to_dict()) == config
    assert Config(metadata=None).metadata == {}  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="globals_dict must be a dict, got list"):
        Config(globals_dict=[1])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="args must be a list or tuple, got str"):
        Config(args="abc")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="keys must be strings"):
        Config(kwargs={1: 2})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match=r"Unknown config key 'kwarg'.*Did you mean 'kwargs'"):
        Config.from_dict({"kwarg": {}})


def test_config_generator() -> None:
    gen = ConfigGenerator(iter([Config(), 3]), origin="test")
    assert isinstance(next(gen), Config)
    with pytest.raises(ConfigError, match="test yielded int 3 as item 2"):
        next(gen)
    with pytest.raises(StopIteration):
        next(gen)


# --- the seed's example configs --------------------------------------------------------------


def test_kohakuengine_hello_config() -> None:
    (config,) = load_config(EXAMPLES / "hello_config.py")
    assert config.globals_dict == {"name": "KohakuEngine", "greeting": "Welcome to"}
    assert config.kwargs == {"excited": True}


def test_kohakuengine_sweep_config() -> None:
    configs = load_config(EXAMPLES / "sweep_config.py")
    assert len(configs) == 9 and len({c.id for c in configs}) == 9
    assert configs[4].globals_dict == {"learning_rate": 0.01, "batch_size": 32, "experiment_name": "lr0.01_bs32"}
    assert configs[4].metadata["sweep"] == "lr_bs"


def test_pycomex_yaml_example() -> None:
    spec = load_spec(EXAMPLES / "experiment_config.yml")
    assert spec.extend == EXAMPLES / "base_experiment.py" and spec.root == EXAMPLES / "results"
    assert (spec.namespace, spec.name, spec.description) == ("experiments/run_1", "my_experiment", "Config-based run")
    assert spec.include == [EXAMPLES / "logging_mixin.py", EXAMPLES / "notification_mixin.py"]
    (config,) = spec.to_configs()
    assert config.globals_dict == {"LEARNING_RATE": 0.001, "BATCH_SIZE": 32, "MODEL_TYPE": "transformer"}


def test_runlab_examples_expand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EPOCHS", raising=False)
    sweep = load_config(EXAMPLES / "sweep.yml")
    assert len(sweep) == 8 and {c.globals_dict["EPOCHS"] for c in sweep} == {5}
    assert sorted({c.globals_dict["LEARNING_RATE"] for c in sweep}) == [0.0001, 0.001, 0.01, 0.1]
    fast = load_config(EXAMPLES / "sweep.yml", EXAMPLES / "fast.toml")
    assert all(c.globals_dict["EPOCHS"] == 1 and c.globals_dict["__TESTING__"] for c in fast)
    assert [c.globals_dict["BATCH_SIZE"] for c in load_config(EXAMPLES / "paired.json")] == [16, 32, 64]


# --- bad input -------------------------------------------------------------------------------

BAD_FILES = {
    "malformed YAML": ("bad.yml", "parameters:\n  LR: 0.1\n   BS: [1, 2\n", ["Malformed YAML", "line 3"]),
    "malformed TOML": ("bad.toml", "[parameters\nLR = 1\n", ["Malformed TOML", "line 1"]),
    "malformed JSON": ("bad.json", '{"parameters": {"LR": 0.1,}}', ["Malformed JSON", "line 1"]),
    "unknown key": ("bad.yml", "parameter:\n  LR: 0.1\n", ["Unknown key 'parameter'", "Did you mean 'parameters'"]),
    "wrong type": ("bad.yml", "parameters: [1, 2]\n", ["'parameters'", "expected a mapping, got list"]),
    "wrong type of text": ("bad.yml", "namespace: 5\n", ["'namespace'", "expected a string, got int"]),
    "wrong sweep mode": ("bad.yml", "sweep_mode: random\n", ["'sweep_mode'", "'grid' or 'zip'"]),
    "missing env": (
        "bad.yml",
        "parameters: {LR: '${RL_UNSET_VAR}'}\n",
        ["'RL_UNSET_VAR' is not set", "parameters.LR", ":-"],
    ),
    "empty sweep list": ("bad.yml", "sweep: {LR: []}\n", ["Empty sweep", "'LR'"]),
    "empty sweep text": ("bad.yml", "parameters: {LR: 'choice()'}\n", ["Empty sweep"]),
    "empty linspace": ("bad.yml", "parameters: {LR: 'linspace(0, 1, 0)'}\n", ["Empty sweep"]),
    "bad sweep text": ("bad.yml", "parameters: {LR: 'logspace(-4, x, 4)'}\n", ["Invalid sweep", "literal"]),
    "zip lengths": ("bad.yml", "sweep: {A: [1], B: [1, 2]}\nsweep_mode: zip\n", ["equal length"]),
    "swept twice": (
        "bad.yml",
        "parameters: {A: 'choice(1, 2)'}\nsweep: {A: [3, 4]}\n",
        ["'A' is swept twice", "under parameters ('choice(1, 2)')", "under sweep ([3, 4])"],
    ),
    "swept twice, dotted": (
        "bad.yml",
        "parameters: {O: {lr: 'range(3)'}}\nsweep: {O.lr: [1]}\n",
        ["'O.lr' is swept twice"],
    ),
    "missing extend": ("bad.yml", "extend: nowhere.py\n", ["'extend'", "nowhere.py", "does not exist"]),
    "empty extend": ("bad.yml", "extend: ''\n", ["'extend'", "the path is empty"]),  # was silently ignored
    "empty root": ("bad.yml", "root: ' '\n", ["'root'", "the path is empty"]),
    "python raises": ("bad.py", "X = 1\nraise RuntimeError('boom')\n", ["raised RuntimeError", "line 2", "boom"]),
    "python syntax": ("bad.py", "def (:\n", ["raised SyntaxError"]),
    "python yields non-config": (
        "bad.py",
        "def config_gen():\n    yield {'LR': 1}\n",
        ["yielded dict", "must yield Config"],
    ),
    "python returns non-config": ("bad.py", "def config_gen():\n    return 5\n", ["gave int 5"]),
    "python without config": ("bad.py", "X = 1\n", ["neither CONFIG nor config_gen()"]),
    "generator raises": (
        "bad.py",
        "from runlab.params import Config\ndef config_gen():\n    yield Config()\n    raise KeyError('k')\n",
        ["raised KeyError", "line 4"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_raises_config_error_with_clear_message(case: str, tmp_path: Path) -> None:
    name, text, fragments = BAD_FILES[case]
    path = write(tmp_path / name, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    for fragment in fragments:
        assert fragment in str(info.value), (case, str(info.value))
    assert isinstance(info.value, ValueError) and info.value.path


def test_extend_cycle(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", "extend: b.yml\n")
    write(tmp_path / "b.yml", "extend: c.json\n")
    write(tmp_path / "c.json", '{"extend": "a.yml"}')
    with pytest.raises(ConfigError, match=r"'extend' cycle: a.yml -> b.yml -> c.json -> a.yml"):
        load_config(tmp_path / "a.yml")
    write(tmp_path / "self.yml", "extend: self.yml\n")
    with pytest.raises(ConfigError, match=r"cycle: self.yml -> self.yml"):
        load_config(tmp_path / "self.yml")


def test_malformed_yaml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yml", "a: 1\nb: 2\nc: [\n")
    with pytest.raises(ConfigError) as info:
        read_file(path)
    assert info.value.line is not None and info.value.line >= 3


def test_other_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match=r"Unknown config file type '.ini'"):
        load_config(write(tmp_path / "x.ini", "a=1"))
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(write(tmp_path / "list.yml", "- 1\n"))
    with pytest.raises(ConfigError, match="cannot be merged"):
        load_config(write(tmp_path / "a.yml", ""), write(tmp_path / "p.py", "CONFIG = None\n"))
    assert load_config(tmp_path / "a.yml")[0].globals_dict == {}  # an empty file is an empty config


@pytest.mark.parametrize("config", [{"a": "\udcff"}, {"\udcff": 1}, {"a": ["x\ud800"]}])
def test_config_id_of_text_with_lone_surrogates(config: dict[str, object]) -> None:
    """Text decoded with surrogateescape (a file name) gets a stable id; it raised UnicodeEncodeError."""
    from runlab.params import config_id

    assert config_id(config) == config_id(dict(config)) and len(config_id(config)) == 12
    assert config_id(config) != config_id({"a": "other"})
