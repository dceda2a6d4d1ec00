# sarbd: the two set-up commands of the README are `make demo` and `make test`.
# Each creates .venv when missing and installs the project with what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sarbd-installed
DEMO_ARGS ?=
PYTEST_ARGS ?=

.PHONY: demo test test-all lint format install bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch is installed first at exactly 2.13.0 (a local CPU wheel); the project's
# own `torch>=2.13.0` is then already satisfied and pulls nothing more.
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	bash scripts/ensure-geoid.sh
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sarbd demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples

bench: $(STAMP)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean-venv:
	rm -rf $(VENV)
