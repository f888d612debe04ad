# Two entry points (see README): `make results` and `make test`.
# Each creates .venv and installs the project with every extra when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test results lint bench timing-gate

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
	$(BIN)/python -m bench run --jobs 2

# The timing gate (under a minute): dezero and the numpy tape on sin (quick grid), compared
# with the committed results/timing_baseline.json; exit 1 when dezero got slower. NOTE: 20 %,
# not compare's default 10 %: on the shared 2-core machine 10 % failed 7 of 132 clean pairs.
GATE_RUN := results/runs/quick-dezero-numpy-sin/benchmark-quick-float64-dezero-numpy-sin.json
timing-gate: install
	$(BIN)/python -m bench run --quick --skip-accuracy --backends dezero numpy --families sin --quiet
	$(BIN)/python -m bench compare results/timing_baseline.json $(GATE_RUN) --threshold 0.2

lint: install
	$(BIN)/ruff check dezero bench validation tests conftest.py
	$(BIN)/ruff format --check dezero bench validation tests conftest.py
