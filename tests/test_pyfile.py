"""The one loader for user files: modules stay importable, so what they define pickles."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest

import runlab
from runlab import _pyfile


def test_a_loaded_module_stays_and_its_functions_pickle(tmp_path: Path) -> None:
    (tmp_path / "neighbour.py").write_text("FACTOR = 3\n")
    base = tmp_path / "base.py"
    base.write_text(
        "from runlab import Experiment\nfrom neighbour import FACTOR\nN = 2\n"
        "experiment = Experiment(glob=globals())\n\n"
        "def scale(x):\n    return FACTOR * x\n\n@experiment\ndef main(e):\n    e['v'] = scale(e.N)\n"
    )
    sub = runlab.Experiment.extend(base, glob={"__file__": str(tmp_path / "sub.py")}, root=tmp_path / "s")
    name = _pyfile.module_name(base, "_runlab_experiment")
    module = sys.modules[name]
    assert pickle.loads(pickle.dumps(module.scale))(5) == 15  # by reference, through sys.modules
    assert str(tmp_path) not in sys.path  # the folder was on the path only while the file ran
    assert sub.run().params["N"] == 2


def test_a_failing_file_leaves_nothing_registered(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    name = _pyfile.module_name(bad, "_t")
    with pytest.raises(RuntimeError, match="boom"):
        _pyfile.load_module(bad, name)
    assert name not in sys.modules


def test_a_short_lived_module_is_dropped(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.py"
    cfg.write_text("X = 1\n")
    module = _pyfile.load_module(cfg, "_t_cfg", keep=False)
    assert module.X == 1 and "_t_cfg" not in sys.modules
    assert not (tmp_path / "__pycache__").exists()  # nothing written beside the user's file


def test_compiled_code_is_reused_only_while_the_text_is_the_same(tmp_path: Path) -> None:
    from runlab.experiment import exec_file

    script = tmp_path / "exp.py"
    script.write_text("X = 1\n")
    first = _pyfile.compile_file(script)
    assert _pyfile.compile_file(script) is first  # a sweep's runs share one compilation
    assert exec_file(script).X == 1
    script.write_text("X = 2\n")  # same size, likely the same mtime: the text decides
    assert _pyfile.compile_file(script) is not first
    assert exec_file(script).X == 2
    script.write_text("X = (\n")
    with pytest.raises(runlab.ValidationError, match=r"Syntax error in .*exp\.py, line 1"):
        exec_file(script)


@pytest.mark.parametrize(
    "enter",
    [
        pytest.param(lambda folder: _pyfile.folder_on_path(folder), id="folder_on_path"),
        pytest.param(lambda folder: _pyfile.loaded_module(folder / "mod.py"), id="loaded_module"),
    ],
)
def test_the_path_list_another_thread_walks_is_never_changed_under_it(tmp_path: Path, enter) -> None:  # type: ignore[no-untyped-def]
    # an import on another thread (a run's background capture) walks the sys.path list it began
    # with; an entry removed from it in place shifted the rest and made it skip the standard library
    (tmp_path / "mod.py").write_text("x = 1\n")
    walked = sys.path
    before = list(walked)
    with enter(tmp_path):
        assert sys.path[0] == str(tmp_path)
        assert walked == before
    assert walked == before
    assert str(tmp_path) not in sys.path


def test_imports_on_another_thread_never_miss_a_module_while_scripts_load(tmp_path: Path) -> None:
    import importlib
    import threading

    (tmp_path / "mod.py").write_text("x = 1\n")
    stdlib = [m for m in ("select", "_json", "_csv", "_bisect", "_heapq", "_random", "mmap") if m in sys.modules]
    failures: list[str] = []
    stop = threading.Event()

    def importer() -> None:
        while not stop.is_set():
            for name in stdlib:
                saved = sys.modules.pop(name)
                try:
                    importlib.import_module(name)
                except ImportError as exc:
                    failures.append(str(exc))
                finally:
                    sys.modules[name] = saved

    thread = threading.Thread(target=importer)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the walk is caught halfway
    thread.start()
    try:
        for _ in range(2000):
            with _pyfile.folder_on_path(tmp_path / "a"), _pyfile.folder_on_path(tmp_path / "b"):
                pass
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert failures == []
