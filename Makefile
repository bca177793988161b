# runlab: `make demo` runs a real example end to end; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# bytecode caching matters for start-up speed; some shells disable it
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint typecheck bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.demo-deps: pyproject.toml | $(PY)
	$(PIP) install -e ".[analysis]"
	@touch $@

$(VENV)/.test-deps: pyproject.toml | $(PY)
	$(PIP) install -e ".[test]"
	@touch $@

demo: $(VENV)/.demo-deps
	$(PY) examples/quickstart.py

test: $(VENV)/.test-deps
	@# the UI tests drive Debian's chromium (CI runs as root on Debian)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	@# two workers: the machine has two cores and most tests wait on subprocesses
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests src/runlab --doctest-modules
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/mypy

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(VENV)/.test-deps
	$(VENV)/bin/mypy

bench: $(VENV)/.test-deps
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
