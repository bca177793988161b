"""Config pools: every source, stable ids, and bad input refused when the function is decorated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

import runlab.branch as rb
from runlab.branch import BranchConfigError, resolve_configs
from runlab.errors import ConfigError, RunlabError, ValidationError
from runlab.params import Config, choice, config_id


class Settings(BaseModel):
    model: str
    temperature: float = 0.5


def test_list_of_dicts_keeps_order_and_ids() -> None:
    pool = resolve_configs([{"a": 1}, {"a": 2}])
    assert [c.value for c in pool] == [{"a": 1}, {"a": 2}]
    assert [c.config_id for c in pool] == [config_id({"a": 1}), config_id({"a": 2})]
    assert [c.source for c in pool] == ["configs[0]", "configs[1]"]


def test_a_dict_is_one_config_and_its_sweeps_expand() -> None:
    assert [c.value for c in resolve_configs({"a": 1})] == [{"a": 1}]
    assert [c.value["t"] for c in resolve_configs({"t": choice(0.1, 0.2), "m": "x"})] == [0.1, 0.2]


def test_runlab_config_gives_its_globals() -> None:
    assert resolve_configs([Config(globals_dict={"LR": 0.1})])[0].value == {"LR": 0.1}


def test_model_instances_pass_as_they_are() -> None:
    s = Settings(model="a")
    pool = resolve_configs([s, Settings(model="b")])
    assert pool[0].value is s and pool[0].config_id == config_id(s)


def test_a_model_validates_dicts_and_expands_alternatives() -> None:
    pool = resolve_configs([{"model": "a", "temperature": [0.1, 0.9]}, {"model": "b"}], model=Settings)
    assert [(c.value.model, c.value.temperature) for c in pool] == [("a", 0.1), ("a", 0.9), ("b", 0.5)]
    assert all(isinstance(c.value, Settings) for c in pool)


def test_yaml_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("parameters:\n  model: small\n  temperature: 0.2\n")
    (tmp_path / "b.yaml").write_text("parameters:\n  model: large\nsweep:\n  temperature: [0.1, 0.7]\n")
    (tmp_path / "notes.txt").write_text("ignored")
    one = resolve_configs(tmp_path / "a.yml")
    assert [c.value for c in one] == [{"model": "small", "temperature": 0.2}]
    folder = resolve_configs(str(tmp_path))
    assert [c.value["model"] for c in folder] == ["small", "large", "large"]
    assert folder[0].config_id == config_id({"model": "small", "temperature": 0.2})
    mixed = resolve_configs([{"model": "tiny"}, tmp_path / "a.yml"], model=Settings)
    assert [c.value.model for c in mixed] == ["tiny", "small"]


def test_the_same_config_has_the_same_id_from_every_source(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text("parameters:\n  temperature: 0.5\n  model: m\n")
    ids = {
        resolve_configs({"model": "m", "temperature": 0.5})[0].config_id,
        resolve_configs([{"temperature": 0.5, "model": "m"}])[0].config_id,
        resolve_configs(tmp_path / "c.yml")[0].config_id,
        resolve_configs(Settings(model="m"))[0].config_id,
        resolve_configs([{"model": "m"}], model=Settings)[0].config_id,
    }
    assert len(ids) == 1


json_values = st.recursive(st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3), max_leaves=6)  # fmt: skip


@given(st.dictionaries(st.text(min_size=1, max_size=5), json_values, min_size=1, max_size=5))
def test_ids_ignore_key_order_and_are_stable(config: dict[str, Any]) -> None:
    reordered = dict(reversed(list(config.items())))
    first = resolve_configs([config])[0].config_id
    assert resolve_configs([reordered])[0].config_id == first == config_id(config)
    assert len(first) == 12 and all(c in "0123456789abcdef" for c in first)


@pytest.mark.parametrize(
    ("configs", "model", "match"),
    [
        ([], None, "Empty config pool"),
        ([{"a": 1}, {"a": 1.0}], None, r"configs\[0\] and configs\[1\] are the same config"),
        ([{"a": 1}, 42], None, r"Invalid config configs\[1\]: int 42"),
        (3.5, None, "Invalid configs="),
        ([{"model": "a"}, {"temperature": 0.1}], Settings, r"configs\[1\] does not fit Settings.*model"),
        ([{"model": "a", "temperature": "hot"}], Settings, r"configs\[0\].*temperature"),
        ("missing.yml", None, "not found: missing.yml"),
        ([{"a": 1}, None], None, r"configs\[1\]: NoneType"),
    ],
)
def test_bad_pools(configs: Any, model: type | None, match: str) -> None:
    with pytest.raises(BranchConfigError, match=match) as caught:
        resolve_configs(configs, model=model)
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValueError)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("parameters: [unclosed\n")
    with pytest.raises(BranchConfigError, match=r"bad\.yml"):
        resolve_configs(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BranchConfigError, match="No config files"):
        resolve_configs(empty)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"configs": []}, BranchConfigError, "Empty config pool"),
        ({"configs": [{"model": 1.5j}]}, BranchConfigError, r"configs\[0\] does not fit Settings"),
        ({"configs": [{"model": "a"}], "strategy": "shadw"}, rb.UnknownStrategyError, "Did you mean 'shadow'"),
        ({"configs": [{"model": "a"}], "strategy": 3}, rb.StrategyError, "3 is not a strategy"),
        ({"configs": [{"model": "a"}], "strategy": object}, rb.StrategyError, "class object"),
        ({"configs": [{"model": "a"}], "strategy": rb.Shadow(primary=1)}, rb.StrategyError, "primary=1"),
        ({"configs": [{"model": "a"}], "strategy": rb.SingleConfig(index=-2)}, rb.StrategyError, "from 0 to 0"),
        ({"configs": [{"model": "a"}], "logger": "sqlite"}, rb.BranchError, "Unknown logger 'sqlite'"),
        ({"configs": [{"model": "a"}], "logger": object()}, rb.BranchError, "Invalid logger"),
    ],
)
def test_bad_input_fails_at_decoration_time(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    calls: list[int] = []
    with pytest.raises(error, match=match) as caught:

        @rb.branch(**{"logger": None, **kwargs})
        def answer(question: str, settings: Settings) -> str:
            calls.append(1)
            return question

    assert isinstance(caught.value, RunlabError) and calls == []


@pytest.mark.parametrize(
    ("files", "match"),
    [
        ({"a.yml": "parameters: {x: 1}", "b.yml": "parameters: {x: 1.0}"}, r"Configs \S*a\.yml#1 and \S*b\.yml#1 "),
        ({"a.yml": "parameters: {y: 0}", "c.yml": "sweep: {x: [1, 2, 1]}"}, r"Configs \S*c\.yml#1 and \S*c\.yml#3 "),
    ],
    ids=["across-files", "within-a-file"],
)
def test_a_folders_configs_are_named_by_their_file(tmp_path: Path, files: dict[str, str], match: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text + "\n")
    with pytest.raises(BranchConfigError, match=match):  # before: "folder#1 and folder#2", no file named
        resolve_configs(tmp_path)
    for i, name in enumerate(sorted(files)):
        (tmp_path / name).write_text(f"parameters: {{n: {i}}}\n")
    assert [c.source for c in resolve_configs(tmp_path)] == [f"{tmp_path / name}#1" for name in sorted(files)]


@pytest.mark.parametrize("target", [dict, len, object.__init__], ids=["class-in-c", "builtin", "slot-wrapper"])
def test_what_has_no_readable_signature_is_refused_with_one_clear_error(target: Any) -> None:
    with pytest.raises(ValidationError, match="config"):  # before: ValueError "no signature found" from inspect
        rb.branch(configs=[{"a": 1}], logger=None)(target)


def test_a_function_without_a_config_parameter_is_refused() -> None:
    with pytest.raises(ValidationError, match="no parameter to receive its config"):

        @rb.branch(configs=[{"a": 1}], logger=None)
        def f(x: int) -> int:
            return x

    with pytest.raises(ValidationError, match="positional-only"):

        @rb.branch(configs=[{"a": 1}], logger=None)
        def g(config: dict, /) -> dict:  # type: ignore[type-arg]
            return config
