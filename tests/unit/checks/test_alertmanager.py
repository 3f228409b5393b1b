from __future__ import annotations

import pytest
from checkhelp import alert, rules

from moncheck.checks import alertmanager as A
from moncheck.checks.base import Skip

AM = """\
route:
  receiver: slack-alerts
  routes:
    - receiver: pagerduty-critical
      matchers: ['severity="critical"']
      continue: true
    - receiver: slack-critical
      matchers: ['severity="critical"']
    - receiver: slack-alerts
      matchers: ['severity=~"warning|info"']
receivers: [{name: slack-alerts}, {name: pagerduty-critical}, {name: slack-critical}]
"""
F = "monitoring/prometheus/rules/r.yml"
UNROUTED_CASES = [
    ("critical-routed", "critical", {}, 0),
    ("warning-routed-to-default-receiver-by-a-route", "warning", {}, 0),
    ("high-unrouted", "high", {}, 1),
    ("critical-misses-policy-receiver", "critical",
     {"alerts": {"routing": {"critical": ["pagerduty-critical", "email-critical"]}}}, 1),
]


@pytest.mark.parametrize("sev,pol,n", [c[1:] for c in UNROUTED_CASES], ids=[c[0] for c in UNROUTED_CASES])
def test_alerts_unrouted(repo, sev, pol, n) -> None:
    ctx = repo({F: rules(alert(severity=sev)), "monitoring/alertmanager/alertmanager.yml": AM}, pol=pol)
    found = A.alerts_unrouted(ctx)
    assert len(found) == n, found
    assert all(f.line == 8 for f in found)


def test_unrouted_skips_without_alertmanager(repo) -> None:
    with pytest.raises(Skip):
        A.alerts_unrouted(repo({F: rules(alert())}))


AM_INHIBIT = AM + """\
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"""
RT = "monitoring/alertmanager/routing-tests.yml"


def test_routing_tests_model_runs_tests_and_inhibit_tests(repo) -> None:
    tests = """\
tests:
  - name: critical
    labels: {severity: critical}
    receivers: [pagerduty-critical, slack-critical]
  - name: wrong
    labels: {severity: high}
    receivers: [slack-critical]
inhibit_tests:
  - name: critical mutes warning
    inhibit:
      source: {alertname: A, severity: critical}
      target: {alertname: A, severity: warning}
      inhibited: true
  - name: wrong expectation
    inhibit:
      source: {alertname: A, severity: critical}
      target: {alertname: B, severity: warning}
      inhibited: true
"""
    ctx = repo({"monitoring/alertmanager/alertmanager.yml": AM_INHIBIT, RT: tests})
    found = A.routing_tests_model(ctx)
    assert [(f.check, f.path, f.line) for f in found] == [("amtool/routing-tests", RT, 5), ("amtool/routing-tests", RT, 14)]
    assert found[0].message == ('routing test "wrong": labels {\'severity\': \'high\'} route to [\'slack-alerts\'], '
                                "expected ['slack-critical']")
    assert A.schema_routing_tests(ctx) == []


def test_list_form_is_rejected_with_a_located_error_everywhere(repo) -> None:
    tests = "- name: critical\n  labels: {severity: critical}\n  receivers: [pagerduty-critical]\n"
    ctx = repo({"monitoring/alertmanager/alertmanager.yml": AM, RT: tests})
    (schema,) = A.schema_routing_tests(ctx)
    assert (schema.check, schema.path, schema.line) == ("schema/routing-tests", RT, 1)
    assert "is not of type 'object'" in schema.message
    (run,) = A.routing_tests_model(ctx)
    assert (run.check, run.path, run.line) == ("amtool/routing-tests", RT, 1)
    assert run.message.startswith("routing tests not run: not a routing-tests file")


def test_gate_without_amtool_runs_tests_and_inhibit_tests_on_the_model(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    from moncheck.gate import run_gate

    files = {
        "monitoring/alertmanager/alertmanager.yml": AM_INHIBIT,
        RT: "tests:\n  - name: high\n    labels: {severity: high}\n    receivers: [slack-critical]\n"
            "inhibit_tests:\n  - name: nope\n    inhibit:\n      source: {alertname: A, severity: critical}\n"
            "      target: {alertname: B, severity: warning}\n      inhibited: true\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.setenv("MONCHECK_AMTOOL", str(tmp_path / "no-amtool"))
    res = run_gate(Path(tmp_path), [])
    got = [(f.check, f.path, f.line) for f in res.findings if f.path == RT]
    assert got == [("amtool/routing-tests", RT, 2), ("amtool/routing-tests", RT, 6)]
    assert ("amtool/routing-tests" in dict(res.skipped)) and "internal error" not in str(res.findings)


def test_routing_tests_without_a_config_are_an_error_not_a_silent_pass(tmp_path) -> None:
    from pathlib import Path

    from moncheck.gate import run_gate

    (tmp_path / "rt.yml").write_text("tests:\n  - name: a\n    labels: {a: b}\n    receivers: [x]\n")
    res = run_gate(Path(tmp_path), [Path("rt.yml")])
    (f,) = [f for f in res.findings if f.check == "amtool/routing-tests"]
    assert (f.path, f.line) == ("rt.yml", 1)
    assert f.message.startswith("routing tests not run: no Alertmanager config to test them against")
