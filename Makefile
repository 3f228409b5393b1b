# `make check`: set up what is missing, then the gate and the fire drills on this repository.
# `make test`: set up what is missing, then the whole test suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup tools lint check test gate drill smoke bench clean

setup: $(STAMP) tools

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

tools:
	@scripts/ensure-tools.sh

# ruff and mypy, configured in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

gate: setup
	$(VENV)/bin/moncheck check

drill: setup
	$(VENV)/bin/moncheck drill

check: setup
	$(VENV)/bin/moncheck check
	$(VENV)/bin/moncheck drill

test: setup
	$(VENV)/bin/pytest -q --junitxml=junit.xml

smoke: setup
	$(VENV)/bin/pytest -m smoke -q

bench: setup
	$(PY) bench/gate.py
	$(PY) bench/slo.py
	$(PY) bench/smoke.py --runs 20
	$(PY) bench/drills.py

clean:
	rm -rf $(VENV) junit.xml drill-report.json
