"""``alerts/for`` on every spelling of a duration: a critical alert cannot escape its minimum
through a value the parser used to skip (``"0"``) or one Prometheus refuses (``30m1h``)."""

from __future__ import annotations

import pytest
from checkhelp import alert, rules

from moncheck.checks import rules as R
from moncheck.checks.registry import CHECKS

F = "monitoring/prometheus/rules/r.yml"
CASES = [
    ("quoted-zero", '"0"', "alert 'TargetDown': for 0 is shorter than the 1m required for severity 'critical'"),
    ("bare-zero", "0", "alert 'TargetDown': for 0 is shorter than the 1m required for severity 'critical'"),
    ("zero-seconds", "0s", "alert 'TargetDown': for 0s is shorter than the 1m required for severity 'critical'"),
    ("out-of-order", "30m1h", "alert 'TargetDown': for '30m1h' is not a Prometheus duration"),
    ("number", "5", "alert 'TargetDown': for '5' is not a Prometheus duration"),
    ("fraction", "1.5m", "alert 'TargetDown': for '1.5m' is not a Prometheus duration"),
]


@pytest.mark.parametrize(("for_", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_critical_alert_cannot_escape(repo, for_: str, message: str) -> None:
    ctx = repo({F: rules(alert(severity="critical", for_=for_))})
    (f,) = R.alerts_for(ctx)
    assert (f.check, f.path, f.line, f.message) == ("alerts/for", F, 6, message)


def test_schema_agrees_on_the_same_values(repo) -> None:
    schema = next(c for c in CHECKS if c.id == "schema/rules")
    for for_, bad in (('"0"', False), ("0", False), ("90s", False), ("30m1h", True), ("1.5m", True)):
        found = schema.fn(repo({F: rules(alert(severity="critical", for_=for_))}))
        assert [(f.check, f.line) for f in found] == ([("schema/rules", 6)] if bad else []), for_
