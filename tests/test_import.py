"""``import runlab`` stays light: no optional extras, no pandas, no CLI libraries."""

from __future__ import annotations

from .conftest import run_python

HEAVY = ["pandas", "numpy", "click", "rich", "optuna", "dask", "distributed", "submitit", "fastapi", "uvicorn",
         "jinja2", "plotly", "matplotlib", "mlflow", "wandb", "desktop_notifier", "pydantic", "yaml"]  # fmt: skip


def test_import_runlab_loads_no_heavy_module() -> None:
    out = run_python(f"import sys, runlab; print([m for m in {HEAVY!r} if m in sys.modules])")
    assert out.stdout.strip() == "[]"


def test_creating_a_run_loads_no_heavy_module(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = run_python(f"""
import sys, runlab
with runlab.start_run(root={str(tmp_path)!r}) as run:
    run.log_metric("a", 1)
print([m for m in {HEAVY!r} if m in sys.modules])
""")
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_small_run_does_not_pay_for_orjson(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """orjson's import is ~15 ms; start-up writes use the stdlib encoder (benchmarks/README.md)."""
    out = run_python(f"""
import sys, runlab
with runlab.start_run(params={{"a": 1, "b": 2.0}}, root={str(tmp_path)!r}) as run:
    run.log_metric("m", 1.0)
print("orjson" in sys.modules)
""")
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_public_names_resolve() -> None:
    import runlab

    for name in runlab.__all__:
        assert getattr(runlab, name) is not None


CONFIG_MODULES = ["runlab.params._files", "runlab.params._sweep", "runlab.params._sample", "runlab.params._yaml",
                  "runlab.experiment._entrypoint"]  # fmt: skip
FUNCTIONAL = """\
from runlab import Experiment

A = 1
experiment = Experiment(glob=globals())


@experiment
def main(e):
    e["a"] = e.A


experiment.run_if_main()
"""


def test_runlab_run_of_one_file_loads_no_config_or_sweep_module(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``runlab run FILE`` without -c or a sweep loads none of the config-file and sweep code (start-up, issue 11),
    and a functional run none of the plain-script entry-point code; with a config file the same command loads it
    on demand."""
    (tmp_path / "plain.py").write_text("x = 1\n\n\ndef main():\n    return x\n")
    (tmp_path / "func.py").write_text(FUNCTIONAL)
    (tmp_path / "c.yml").write_text("parameters:\n  A: 2\n")
    probe = f"""
import atexit, sys
atexit.register(lambda: print("LOADED", [m for m in {CONFIG_MODULES!r} if m in sys.modules]))
from runlab.cli import main
main(sys.argv[1:])
"""
    root = str(tmp_path / "runs")
    files, sweep, sample, yaml, entrypoint = CONFIG_MODULES
    for args, loaded in [
        (["plain.py"], [entrypoint]),  # a plain script's entry point is looked for
        (["func.py"], []),  # a functional run needs no entry-point analysis (10 M instructions)
        (["func.py", "-p", "A=3"], [sweep, sample]),  # an override may be sweep text: only its parser loads
        (["func.py", "-c", "c.yml"], [files, sweep, yaml]),
    ]:
        paths = [str(tmp_path / a) if a.endswith((".py", ".yml")) else a for a in args]
        out = run_python(probe, "--root", root, "run", *paths)
        line = [x for x in out.stdout.splitlines() if x.startswith("LOADED")][-1]
        assert line == f"LOADED {loaded}", (args, out.stdout, out.stderr)


def test_params_names_resolve_lazily() -> None:
    out = run_python(
        "import sys, runlab.params as p; before = sorted(m for m in sys.modules if m.startswith('runlab.params.'));"
        "[getattr(p, n) for n in p.__all__]; print(before, sorted(p.__all__) == sorted(dir(p)))"
    )
    assert out.stdout.strip() == "[] True"


def test_runlab_cache_is_reachable_from_a_plain_import() -> None:
    """docs/cache.md's `with runlab.cache.caching(False):` raised AttributeError after `import runlab`."""
    out = run_python("import runlab\nwith runlab.cache.caching(False):\n    print(runlab.cache.__name__)")
    assert out.stdout.strip() == "runlab.cache", out.stderr


LAZY_FOR_RUN = ["runlab.cli._sweep_cmd", "runlab.cli._render", "runlab.experiment._context",
                "runlab.experiment._accessors", "runlab.experiment._paths", "runlab.params._actionable"]  # fmt: skip


def test_runlab_run_loads_no_sweep_command_accessor_or_unused_parameter_module(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A single run (start-up, issue 11) loads neither the sweep commands nor the ``with runlab.run()`` style and
    accessors; a plain script no pending request, a functional experiment without -c or overrides no config or
    override parser. With a sweep the sweep command's module loads on demand."""
    (tmp_path / "plain.py").write_text("x = 1\n\n\ndef main():\n    return x\n")
    (tmp_path / "func.py").write_text(FUNCTIONAL)
    probe = """
import atexit, sys
atexit.register(lambda: print("LOADED", sorted(m for m in sys.modules if m.startswith("runlab."))))
from runlab.cli import main
main(sys.argv[1:])
"""
    root = str(tmp_path / "runs")
    for file, lazy in [("plain.py", [*LAZY_FOR_RUN, "runlab.experiment._pending"]),
                       ("func.py", [*LAZY_FOR_RUN, "runlab.params._config", "runlab.params._overrides"])]:  # fmt: skip
        out = run_python(probe, "--root", root, "run", str(tmp_path / file))
        line = [x for x in out.stdout.splitlines() if x.startswith("LOADED")][-1]
        assert [m for m in lazy if f"'{m}'" in line] == [], (file, line)
    out = run_python(probe, "--root", root, "run", str(tmp_path / "plain.py"), "--sweep", "x=1,2", check=False)
    assert "'runlab.cli._sweep_cmd'" in [x for x in out.stdout.splitlines() if x.startswith("LOADED")][-1], out.stderr


def test_runlab_experiment_loads_its_modules_on_first_use() -> None:
    out = run_python(
        "import sys, runlab.experiment as e; before = [m for m in sys.modules if m.startswith('runlab.experiment.')];"
        "[getattr(e, n) for n in e.__all__]; print(before, sorted(e.__all__) == sorted(dir(e)))"
    )
    assert out.stdout.strip() == "[] True", out.stderr


def test_python_m_runlab_runs_the_code_with_the_garbage_collector_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``python -m runlab`` turns the collector off while the command line loads, then freezes what it loaded
    (runlab.cli._main._freeze_loaded): the run's code runs with it on again."""
    import subprocess
    import sys

    (tmp_path / "gc_on.py").write_text("import gc\n\n\ndef main():\n    return gc.isenabled()\n")
    out = subprocess.run([sys.executable, "-m", "runlab", "run", "gc_on.py", "--root", "runs"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    import runlab

    [record] = runlab.runs(root=tmp_path / "runs")
    assert record.data["result"] is True
    version = subprocess.run([sys.executable, "-m", "runlab", "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout == f"runlab, version {runlab.__version__}\n"
