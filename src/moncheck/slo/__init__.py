"""SLOs as code: Sloth/OpenSLO specs -> validated -> Sloth-compatible rules, tests, runbooks.

Public entry points (the gate and the CLI use these):
``validate(repo)`` -> ``slo/*`` findings; ``check_drift(repo)`` -> ``slo/stale`` findings;
``plan(repo)`` / ``write(repo, plan)`` for generation.
"""

from __future__ import annotations

from moncheck.slo.generate import check_drift, load_specs, plan, stale, validate, write

__all__ = ["check_drift", "load_specs", "plan", "stale", "validate", "write"]
