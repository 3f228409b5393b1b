"""Every alert has a promtool unit test that shows it firing (``alerts/untested``)."""

from __future__ import annotations

from moncheck.checks.base import Context, Skip
from moncheck.findings import Finding, error
from moncheck.yamlpos import as_dict, as_list


def tested_alerts(ctx: Context) -> set[str]:
    """Alert names some alert_rule_test expects to fire (non-empty exp_alerts)."""
    names: set[str] = set()
    for doc in ctx.inv.rule_tests:
        tests = doc.data.get("tests") if isinstance(doc.data, dict) else None
        for t in as_list(tests):
            t = as_dict(t)
            for art in as_list(t.get("alert_rule_test") or t.get("alert_rule_tests")):
                if isinstance(art, dict) and art.get("exp_alerts") and art.get("alertname"):
                    names.add(str(art["alertname"]))
    return names


def alerts_untested(ctx: Context) -> list[Finding]:
    if ctx.inv.mode == "loose" and not ctx.inv.rule_tests:
        raise Skip("no promtool test files among the given paths")
    tested = tested_alerts(ctx)
    return [
        error("alerts/untested", r.file, r.line_of("alert"),
              f"alert {r.name!r} has no promtool test that expects it to fire",
              "add an alert_rule_test with non-empty exp_alerts in tests/rules/")
        for r in ctx.inv.alerts
        if r.name not in tested
    ]
