"""Every alert has a promtool unit test that shows it firing (``alerts/untested``)."""

from __future__ import annotations

from moncheck.checks.base import Context, Skip
from moncheck.findings import Finding, error


def tested_alerts(ctx: Context) -> set[str]:
    """Alert names some alert_rule_test expects to fire (non-empty exp_alerts)."""
    return {a.alertname for doc in ctx.inv.rule_tests for g in doc.groups for a in g.alert_tests if a.fires}


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
