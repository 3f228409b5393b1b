# `make check`: set up what is missing, then the gate, mutation testing of the rules and the fire
# drills on this repository.
# `make test`: set up what is missing, then the whole test suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup tools lint check test test-toolchain2 gate mutate drill smoke bench clean

setup: $(STAMP) tools

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

tools:
	@PY=$(PY) scripts/ensure-tools.sh
	@scripts/ensure-browser.sh

# ruff and mypy, configured in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

gate: setup
	$(VENV)/bin/moncheck check

drill: setup
	$(VENV)/bin/moncheck drill

# Mutation testing covers the hand-written rules and their tests. The generated SLO rules
# (rules/slo/) are left out for cost: 969 more mutants whose promtool runs take about 4 minutes
# on 2 cores even judged in renamed batches, beyond the main job's budget (see docs/mutate.md,
# bench/mutate.py); their generated tests are checked against the rule model in
# tests/unit/test_slo_scenarios.py instead, and `moncheck mutate` with no path runs them all
# (every SLO mutant killed or equivalent but the 24 `>` -> `>=` ones, docs/slo.md).
MUTATE_PATHS := $(wildcard monitoring/prometheus/rules/*.yml) $(wildcard tests/rules/*.test.yml)

mutate: setup
	$(VENV)/bin/moncheck mutate $(MUTATE_PATHS)

check: setup
	$(VENV)/bin/moncheck check
	$(VENV)/bin/moncheck mutate $(MUTATE_PATHS)
	$(VENV)/bin/moncheck drill

# Everything on toolchain 3 (the default), then the rule tests and config checks again on
# toolchain 2 (Debian 12's Prometheus 2.42 / Alertmanager 0.25); see src/moncheck/toolchain/.
TOOLCHAIN2_TESTS := tests/rules tests/unit/test_tools_promtool.py tests/unit/test_tools_amtool.py tests/unit/test_toolchain.py

test: setup lint
	$(VENV)/bin/pytest -q --junitxml=junit.xml
	@$(MAKE) --no-print-directory test-toolchain2

test-toolchain2: setup
	MONCHECK_TOOLCHAIN=2 $(VENV)/bin/pytest -q --junitxml=junit-toolchain2.xml $(TOOLCHAIN2_TESTS)

smoke: setup
	$(VENV)/bin/pytest -m smoke -q

bench: setup
	$(PY) bench/gate.py
	$(PY) bench/slo.py
	$(PY) bench/smoke.py --runs 20
	$(PY) bench/drills.py
	$(PY) bench/smoke_auth.py
	$(PY) bench/compat.py

clean:
	rm -rf $(VENV) junit.xml junit-toolchain2.xml drill-report.json
