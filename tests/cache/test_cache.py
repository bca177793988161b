"""The cache: hits, misses, keys, scopes, backends, loading switch, damage and concurrent writers."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import pickle
import subprocess
import sys
import textwrap
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import runlab
from runlab.cache import Cache, caching
from runlab.errors import CacheError, UsageError
from runlab.store import RunlabWarning


class _Level(enum.IntEnum):
    HIGH = 2


@dataclasses.dataclass
class _Point:
    x: int
    y: int


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(root=tmp_path / "store")


def counting(cache: Cache, **options: Any) -> tuple[Any, list[int]]:
    calls: list[int] = []

    @cache.cached("work", **options)
    def work(x: Any, y: Any = 1) -> Any:
        calls.append(1)
        return {"x": x if not isinstance(x, np.ndarray) else x.tolist(), "n": len(calls)}

    return work, calls


def test_second_call_is_a_hit_and_does_not_call_the_function(cache: Cache) -> None:
    work, calls = counting(cache)
    assert work(2) == {"x": 2, "n": 1}
    assert work(2) == {"x": 2, "n": 1}
    assert len(calls) == 1
    assert cache.stats == {"hits": 1, "misses": 1}
    assert (cache.path / "work").is_dir()


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (((1,), {}), ((), {"x": 1}), True),                         # positional or keyword
        (((1,), {}), ((1,), {"y": 1}), True),                       # defaults count
        (((1,), {}), ((1,), {"y": 2}), False),
        ((({"a": 1, "b": 2},), {}), (({"b": 2, "a": 1},), {}), True),  # dict order does not matter
        ((([1, 2],), {}), (((1, 2),), {}), False),                  # list is not tuple
        (((1,), {}), ((1.0,), {}), False),                          # int is not float
        (((np.arange(3),), {}), ((np.arange(3),), {}), True),       # arrays by content
        (((np.arange(3),), {}), ((np.arange(3.0),), {}), False),    # ... and dtype
        ((({1, 2, 3},), {}), (({3, 2, 1},), {}), True),
    ],
)  # fmt: skip
def test_key_depends_on_argument_values_only(cache: Cache, first: Any, second: Any, same: bool) -> None:
    work, calls = counting(cache)
    work(*first[0], **first[1])
    work(*second[0], **second[1])
    assert len(calls) == (1 if same else 2)


def test_scopes_keep_entries_apart_and_clear_by_scope(cache: Cache) -> None:
    @cache.cached("prep", scope=("data", "v1"))
    def v1(x: int) -> int:
        return x + 1

    @cache.cached("prep", scope=("data", "v2"))
    def v2(x: int) -> int:
        return x + 2

    assert (v1(1), v2(1)) == (2, 3)
    assert (v1(1), v2(1)) == (2, 3)
    assert {e.scope for e in cache.entries()} == {("data", "v1"), ("data", "v2")}
    assert cache.clear(scope=("data", "v1")) == 1
    assert [e.scope for e in cache.entries(scope="data")] == [("data", "v2")]


def test_caching_off_computes_and_still_saves(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    work, _calls = counting(cache)
    assert work(1)["n"] == 1
    with caching(False):
        assert work(1)["n"] == 2  # not loaded ...
    assert work(1)["n"] == 2  # ... but saved
    monkeypatch.setenv("RUNLAB_CACHING", "0")
    assert work(1)["n"] == 3
    assert Cache(cache.path, load=False).cached("work")(lambda x, y=1: "fresh")(1) == "fresh"


@pytest.mark.parametrize(
    ("backend", "value", "suffix"),
    [
        ("pickle", {"a": (1, 2), "b": {3}}, ".pkl"),
        ("joblib", np.linspace(0, 1, 1000), ".joblib"),
        ("json", {"a": [1, 2.5, "x"], "b": None}, ".json"),
    ],
)
def test_each_backend_round_trips(cache: Cache, backend: str, value: Any, suffix: str) -> None:
    @cache.cached("v", backend=backend)
    def make() -> Any:
        return value

    make()
    [entry] = cache.entries()
    assert entry.backend == backend and entry.path.suffix == suffix and entry.size > 0
    assert entry.function is not None and entry.function.endswith("make")
    again = Cache(cache.path).cached("v", backend=backend)(make.__wrapped__)()  # type: ignore[attr-defined]
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(again, value)
    else:
        assert again == value


def test_a_value_the_backend_cannot_hold_is_returned_with_a_warning_and_not_stored(cache: Cache) -> None:
    @cache.cached("f", backend="json")
    def make() -> Any:
        return {"fn": object()}

    with pytest.warns(RunlabWarning, match="Could not cache the result of 'f' with the 'json' backend"):
        out = make()
    assert isinstance(out["fn"], object)
    assert cache.entries() == []
    assert not any(p.name.endswith(".tmp") for p in cache.path.rglob("*"))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"name": ""}, "Invalid cache name ''"),
        ({"name": "a/b"}, "Invalid cache name 'a/b'"),
        ({"name": ".."}, "Invalid cache name '..'"),
        ({"name": "a\0b"}, "Invalid cache name"),
        ({"scope": ("ok", "../up")}, "Invalid cache scope '../up'"),
        ({"scope": (3,)}, "Invalid cache scope 3"),
        ({"backend": "parquet"}, "Invalid cache backend 'parquet': expected one of pickle, joblib, json"),
    ],
)
def test_bad_options_are_refused_when_decorating(cache: Cache, options: dict[str, Any], match: str) -> None:
    with pytest.raises(CacheError, match=match) as info:
        cache.cached(**options)(lambda: 1)
    assert isinstance(info.value, UsageError) and isinstance(info.value, ValueError)


def test_an_argument_that_cannot_be_hashed_names_itself_and_can_be_ignored(cache: Cache) -> None:
    import threading

    @cache.cached("f")
    def f(lock: Any, x: int) -> int:
        return x

    with pytest.raises(CacheError, match=r"argument lock \(lock\) cannot be hashed.*ignore=\('lock',\)"):
        f(threading.Lock(), 1)
    g = cache.cached("g", ignore=("lock",))(f.__wrapped__)  # type: ignore[attr-defined]
    assert g(threading.Lock(), 1) == 1 and g(threading.Lock(), 1) == 1
    assert cache.stats["hits"] == 1


@pytest.mark.parametrize("damage", [b"", b"\x80\x04garbage", b"not a pickle at all"])
def test_a_damaged_entry_is_recomputed_with_a_warning(cache: Cache, damage: bytes) -> None:
    work, _calls = counting(cache)
    work(1)
    [entry] = cache.entries()
    entry.path.write_bytes(damage)
    with pytest.warns(RunlabWarning, match="is unreadable"):
        assert work(1)["n"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert work(1)["n"] == 2  # the fresh entry replaced the damaged one


def test_runlab_cached_uses_the_store_cache_bare_or_with_options(tmp_path: Path) -> None:
    root = tmp_path / "s"
    calls = []

    @runlab.cached(root=root)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @runlab.cached("cube", scope=("math",), root=root)
    def cube(x: int) -> int:
        return x**3

    assert (square(3), square(3), cube(2)) == (9, 9, 8)
    assert calls == [3]
    assert {(e.name, e.scope) for e in Cache(root=root).entries()} == {("square", ()), ("cube", ("math",))}
    with pytest.raises(CacheError, match="expected a string"):
        runlab.cached(3)  # type: ignore[call-overload]


SCRIPT = """
import os, sys, time, runlab
@runlab.cached("slow", root=sys.argv[1])
def slow(n):
    print("computing", flush=True)
    {body}
print(slow(5))
"""


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(SCRIPT).replace("{body}", body))
    return path


def _run(script: Path, root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), str(root), *extra], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip


def test_editing_the_function_misses_the_old_entry(tmp_path: Path) -> None:
    root = tmp_path / "store"
    script = _script(tmp_path, "return n * 2")
    assert _run(script, root).stdout == "computing\n10\n"
    assert _run(script, root).stdout == "10\n"  # a new process reads the entry
    _script(tmp_path, "return n * 3")
    assert _run(script, root).stdout == "computing\n15\n"
    assert len(Cache(root=root).entries()) == 2


def test_two_processes_writing_one_entry_at_once_leave_one_valid_entry(tmp_path: Path) -> None:
    root = tmp_path / "store"
    gate = tmp_path / "gate"
    gate.mkdir()
    body = (  # every process is inside the function before any of them returns
        f"open(os.path.join({str(gate)!r}, str(os.getpid())), 'w').close()\n"
        f"    while len(os.listdir({str(gate)!r})) < 3: time.sleep(0.005)\n"
        "    return [os.getpid()] * 200_000"
    )
    script = _script(tmp_path, body)
    procs = [subprocess.Popen([sys.executable, str(script), str(root)], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]  # fmt: skip
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert all(out.startswith("computing\n") for out in outs)  # all three computed at once
    [entry] = Cache(root=root).entries()
    stored = pickle.loads(entry.path.read_bytes())
    assert len(stored) == 200_000 and len(set(stored)) == 1 and stored[0] in {p.pid for p in procs}
    assert [p.name for p in entry.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert _run(script, root).stdout.startswith(f"[{stored[0]}, ")  # a later process loads it, no computing


def test_cli_lists_and_clears_entries(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from runlab.cli import cli
    from runlab.cli._main import _register

    _register()

    root = tmp_path / "store"
    runner = CliRunner()
    empty = runner.invoke(cli, ["cache", "list", "--root", str(root)])
    assert empty.exit_code == 0 and "No cached results" in empty.output
    for scope in ("v1", "v2"):
        runlab.cached("prep", scope=("data", scope), root=root)(lambda x: x)(1)
    listed = runner.invoke(cli, ["cache", "list", "--root", str(root)])
    assert listed.exit_code == 0, listed.output
    assert "data/v1" in listed.output and "data/v2" in listed.output and "pickle" in listed.output
    kept = runner.invoke(cli, ["cache", "clear", "--root", str(root), "--scope", "data/v1"], input="n\n")
    assert kept.exit_code == 0 and "Nothing changed." in kept.output
    assert len(Cache(root=root).entries()) == 2
    cleared = runner.invoke(cli, ["cache", "clear", "--root", str(root), "--scope", "data/v1", "--yes"])
    assert cleared.exit_code == 0 and "Deleted 1 cached entry." in cleared.output
    assert [e.scope for e in Cache(root=root).entries()] == [("data", "v2")]
    bad = runner.invoke(cli, ["cache", "list", "--root", str(root), "--scope", "../x"])
    assert bad.exit_code == 2 and "Invalid cache scope '..'" in bad.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--scope", ""], "Invalid --scope ''"), (["--scope", "/data"], "Invalid --scope '/data'"),
     (["--scope", "data//v1"], "Invalid --scope 'data//v1'"), (["--scope", "data/"], "Invalid --scope 'data/'"),
     (["--name", ""], "Invalid cache name ''")],
)  # fmt: skip
def test_cli_clear_refuses_a_scope_or_name_no_entry_has(tmp_path: Path, args: list[str], message: str) -> None:
    """`cache clear --scope "" --yes` deleted every entry (an empty scope read as no scope): a script with
    --scope "$UNSET" lost the whole cache."""
    from click.testing import CliRunner

    from runlab.cli import cli
    from runlab.cli._main import _register

    _register()
    root = tmp_path / "store"
    runlab.cached("prep", scope=("data", "v1"), root=root)(lambda x: x)(1)
    result = CliRunner().invoke(cli, ["cache", "clear", "--root", str(root), *args, "--yes"])
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(Cache(root=root).entries()) == 1


EXPERIMENT = """
from runlab import Experiment

N: int = 4

experiment = Experiment(glob=globals())

@experiment
def main(e):
    @e.cache.cached("squares", scope=("demo",))
    def squares(n):
        print("computing", flush=True)
        return [i * i for i in range(n)]

    e["squares"] = squares(e.N)

experiment.run_if_main()
"""


def test_e_cache_in_a_functional_experiment_follows_caching(tmp_path: Path) -> None:
    (tmp_path / "exp.py").write_text(EXPERIMENT)
    root = tmp_path / "store"

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "exp.py", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "RUNLAB_ROOT": str(root)}, check=True)  # fmt: skip
        return done.stdout

    assert "computing" in run()
    assert "computing" not in run()  # a later run loads the stored result
    assert "computing" in run("--__CACHING__=False")  # computes again ...
    assert [e.name for e in Cache(root=root).entries(scope="demo")] == ["squares"]  # ... and keeps one entry
    assert "computing" in run("--N=5")  # other arguments: a miss
    assert all(r.data["squares"][:4] == [0, 1, 4, 9] for r in runlab.runs(root=root))


def test_a_run_that_uses_no_cache_does_not_load_it(tmp_path: Path) -> None:
    (tmp_path / "exp.py").write_text(
        "import sys\nfrom runlab import Experiment\n\nN = 1\nexperiment = Experiment(glob=globals())\n\n\n"
        "@experiment\ndef main(e):\n    print('cache loaded:', 'runlab.cache' in sys.modules)\n\n\n"
        "experiment.run_if_main()\n"
    )
    for args in ([], ["--__CACHING__=False"]):
        env = {**os.environ, "RUNLAB_ROOT": str(tmp_path / "s")}
        done = subprocess.run([sys.executable, "exp.py", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env=env, check=True)  # fmt: skip
        # on (the default) needs no switch; off switches loading off, which loads the cache
        assert f"cache loaded: {bool(args)}" in done.stdout, done.stdout


def _factory_pair(cache: Cache, closed_over: tuple[Any, Any]) -> tuple[Any, Any]:
    def make(k: Any) -> Any:
        @cache.cached("mul")
        def mul(x: int) -> Any:
            return (x, k)

        return mul

    return make(closed_over[0]), make(closed_over[1])


@pytest.mark.parametrize(
    ("closed_over", "same"),
    [
        ((2, 3), False),                              # a factory's parameter is part of the key
        (("a", "b"), False),
        (({"lr": 0.1}, {"lr": 0.2}), False),
        ((np.arange(3), np.arange(1, 4)), False),
        ((2, 2), True),                               # the same value shares the entry
        ((object(), object()), True),                 # objects count by their type only
    ],
)  # fmt: skip
def test_functions_made_by_one_factory_do_not_share_entries(cache: Cache, closed_over: Any, same: bool) -> None:
    first, second = _factory_pair(cache, closed_over)
    a, b = first(1), second(1)
    assert (cache.stats["hits"] == 1) is same
    assert a[1] is closed_over[0]
    if not same:
        assert b[1] is closed_over[1]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["".join(["ab", "c"])], ["".join(["a", "bc"])]),  # equal content, other objects: one entry
        ([float("1.5")], [float("1.5")]),
    ],
)  # fmt: skip
def test_object_arrays_are_keyed_by_content_not_addresses(cache: Cache, first: list[Any], second: list[Any]) -> None:
    work, calls = counting(cache)
    assert first[0] is not second[0]
    work(np.array(first, dtype=object))
    work(np.array(second, dtype=object))
    assert len(calls) == 1
    changed = np.empty(1, dtype=object)
    changed[0] = {"v": 1}
    work(changed)
    changed[0]["v"] = 2  # new content at the same address: a new entry, not the old result
    assert work(changed)["x"] == [{"v": 2}] and len(calls) == 3


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"loss": float("nan")}, r"the result\['loss'\] is nan, which JSON would store as null"),
        ([1.0, float("-inf")], r"the result\[1\] is -inf"),
        ((1, 2), "is a tuple, which JSON would load back as a list"),
        ({"ids": {1, 2}}, r"the result\['ids'\] is a set"),
        (np.array([1.0, np.nan]), "holds NaN or infinite values"),
        # orjson writes these, and they came back changed: as a string, a number, a dict
        (datetime.date(2020, 1, 2), "the result is a datetime.date, which JSON would not give back as it was"),
        ({"run": [uuid.UUID(int=1)]}, r"the result\['run'\]\[0\] is a uuid.UUID"),
        (_Level.HIGH, "is a tests.cache.test_cache._Level"),
        (_Point(1, 2), "is a tests.cache.test_cache._Point"),
    ],
)  # fmt: skip
def test_json_backend_refuses_values_it_would_not_give_back(cache: Cache, value: Any, match: str) -> None:
    @cache.cached("j", backend="json")
    def make() -> Any:
        return value

    with pytest.warns(RunlabWarning, match=match):
        out = make()
    assert out is value and cache.entries() == []


@pytest.mark.parametrize(
    ("ignore", "outcome"),
    [
        ("lock", "hit"),                              # one string is one name, not its letters
        (("lock",), "hit"),
        (("lokc",), "Invalid ignore= name 'lokc': f\\(\\) has no such argument. Expected some of: lock, x"),
        ("x y", "Invalid ignore= name 'x y'"),
        (None, r"Invalid ignore= None: expected an argument name or a tuple of them"),  # was a bare TypeError
        (5, r"Invalid ignore= 5"),
    ],
)  # fmt: skip
def test_ignore_names_are_checked_when_decorating(cache: Cache, ignore: Any, outcome: str) -> None:
    import threading

    def f(lock: Any, x: int) -> int:
        return x

    if outcome != "hit":
        with pytest.raises(CacheError, match=outcome):
            cache.cached("f", ignore=ignore)(f)
        return
    g = cache.cached("f", ignore=ignore)(f)
    assert g(threading.Lock(), 1) == 1 and g(threading.Lock(), 1) == 1
    assert cache.stats["hits"] == 1


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"scope": 5}, "Invalid cache scope 5: expected a folder name or a tuple of them"),
        ({"scope": None}, "Invalid cache scope None"),
    ],
)  # fmt: skip
def test_a_scope_that_is_not_names_is_refused_clearly(cache: Cache, options: dict[str, Any], match: str) -> None:
    with pytest.raises(CacheError, match=match):
        cache.cached(**options)(lambda: 1)


def test_an_argument_that_contains_itself_is_refused_clearly(cache: Cache) -> None:
    work, calls = counting(cache)
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(CacheError, match=r"argument x is nested too deeply or contains itself.*ignore=\(.x.,\)"):
        work(loop)
    assert calls == []


def test_an_unwritable_cache_folder_returns_the_result_with_a_warning(cache: Cache) -> None:
    """A file where the function's cache folder goes (as a read-only folder does for a user; the suite runs
    as root in CI, where permissions do not stop writes): the result was lost to a NotADirectoryError."""
    cache.path.mkdir(parents=True)
    (cache.path / "work").write_text("in the way")
    work, calls = counting(cache)
    with pytest.warns(RunlabWarning, match=r"Could not cache the result of 'work'.*Check that .* can be written"):
        assert work(1) == {"x": 1, "n": 1}
    assert len(calls) == 1 and cache.entries() == []


@pytest.mark.parametrize(
    ("entries", "scope", "listed"),
    [
        # a scope folder whose name ends like an entry file was listed as an entry; clearing it failed
        # with "Is a directory" (exit 1) before deleting anything
        ([("n", ("a", "b.pkl"))], "a", [("a/b.pkl", "n")]),
        ([("n", ("a", "v1.json"))], None, [("a/v1.json", "n")]),
        # an entry named like a scope's first folder lies in that folder: --scope features took it too
        ([("features", ()), ("v1", ("features",))], "features", [("features", "v1")]),
        ([("data", ()), ("prep", ("data", "v1"))], "data/v1", [("data/v1", "prep")]),
        ([("data", ()), ("prep", ("data", "v1"))], None, [("-", "data"), ("data/v1", "prep")]),
    ],
)  # fmt: skip
def test_cli_lists_and_clears_only_the_entries_under_a_scope(
    tmp_path: Path, entries: list[tuple[str, tuple[str, ...]]], scope: str | None, listed: list[tuple[str, str]]
) -> None:
    from click.testing import CliRunner

    from runlab.cli._main import _register, cli

    _register()
    root = tmp_path / "store"
    cache = Cache(root=root)
    for name, parts in entries:
        cache.cached(name, scope=parts)(lambda x: x)(1)
    where = ["--scope", scope] if scope else []
    shown = CliRunner().invoke(cli, ["--root", str(root), "cache", "list", *where])
    assert shown.exit_code == 0, shown.output
    rows = [line.split()[:2] for line in shown.stdout.splitlines()[1:]]
    assert sorted(map(tuple, rows)) == sorted(listed)
    cleared = CliRunner().invoke(cli, ["--root", str(root), "cache", "clear", "--yes", *where])
    assert cleared.exit_code == 0 and f"Deleted {len(listed)} cached entr" in cleared.output, cleared.output
    assert len(cache.entries()) == len(entries) - len(listed)  # the others are still there


def test_ctrl_c_while_saving_leaves_no_hidden_temporary_file(cache: Cache) -> None:
    """The temporary file was removed on errors only: after Ctrl-C a half-written hidden file stayed, which
    ``runlab cache list`` does not show and ``runlab cache clear`` does not remove."""

    class Interrupted:
        def __reduce__(self) -> Any:
            raise KeyboardInterrupt

    @cache.cached("big")
    def make() -> Any:
        return Interrupted()

    with pytest.raises(KeyboardInterrupt):
        make()
    assert [p.name for p in cache.path.rglob("*")] == ["big"]
