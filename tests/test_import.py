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
