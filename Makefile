# `make check`: set up what is missing, then the gate, mutation testing of the rules and the fire
# drills on this repository.
# `make test`: set up what is missing, then the whole test suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup tools check test gate mutate drill smoke bench clean

setup: $(STAMP) tools

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

tools:
	@scripts/ensure-tools.sh

gate: setup
	$(VENV)/bin/moncheck check

drill: setup
	$(VENV)/bin/moncheck drill

mutate: setup
	$(VENV)/bin/moncheck mutate

check: setup
	$(VENV)/bin/moncheck check
	$(VENV)/bin/moncheck mutate
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
