# Two entry points (see README): `make results` and `make test`.
# Each creates .venv and installs the project with every extra when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test results lint bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[all]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

# Unit tests, the accuracy gate, and every benchmark body run once (no timing).
test: install
	$(BIN)/ruff check dezero bench validation tests conftest.py
	$(BIN)/python -m pytest -q --benchmark-disable -n auto

# Benchmarks + cross-validation at the default profile; regenerates results/.
results: install
	$(BIN)/python -m bench run

lint: install
	$(BIN)/ruff check dezero bench validation tests conftest.py
	$(BIN)/ruff format --check dezero bench validation tests conftest.py
