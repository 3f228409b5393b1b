from __future__ import annotations

import pytest
from checkhelp import alert, rules

from moncheck.checks import alertmanager as A
from moncheck.checks.base import Skip

TREE = {
    "receiver": "default",
    "routes": [
        {"receiver": "pager", "matchers": ['severity="critical"'], "continue": True},
        {"receiver": "chat-critical", "match": {"severity": "critical"}},
        {"receiver": "chat", "match_re": {"severity": "warning|info"},
         "routes": [{"receiver": "frontend", "matchers": ["team=frontend"]}]},
        {"receiver": "not-db", "matchers": ['component!~"db.*"', 'severity="high"']},
    ],
}

ROUTE_CASES = [
    ("critical-continue", {"severity": "critical"}, ["pager", "chat-critical"]),
    ("warning", {"severity": "warning"}, ["chat"]),
    ("nested-child", {"severity": "info", "team": "frontend"}, ["frontend"]),
    ("regex-anchored", {"severity": "warningX"}, ["default"]),
    ("negative-regex", {"severity": "high", "component": "web"}, ["not-db"]),
    ("negative-regex-excluded", {"severity": "high", "component": "db1"}, ["default"]),
    ("no-labels", {}, ["default"]),
]


@pytest.mark.parametrize("labels,want", [c[1:] for c in ROUTE_CASES], ids=[c[0] for c in ROUTE_CASES])
def test_route(labels, want) -> None:
    assert A.route(TREE, labels) == want


def test_inhibition() -> None:
    rules_ = [{"source_matchers": ['severity="critical"'], "target_matchers": ['severity=~"warning|info"'],
               "equal": ["alertname"]}]
    assert A.inhibited(rules_, {"alertname": "A", "severity": "critical"}, {"alertname": "A", "severity": "warning"})
    assert not A.inhibited(rules_, {"alertname": "A", "severity": "critical"}, {"alertname": "B", "severity": "warning"})
    assert not A.inhibited(rules_, {"alertname": "A", "severity": "warning"}, {"alertname": "A", "severity": "critical"})


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


def test_routing_tests_python_and_schema(repo) -> None:
    tests = """\
- name: critical
  labels: {severity: critical}
  receivers: [pagerduty-critical, slack-critical]
- name: wrong
  labels: {severity: high}
  receivers: [slack-critical]
- name: bad-case
  labels: {severity: high}
"""
    ctx = repo({"monitoring/alertmanager/alertmanager.yml": AM, "monitoring/alertmanager/routing-tests.yml": tests})
    assert [(f.check, f.line) for f in A.routing_tests_python(ctx)] == [("alertmanager/routing", 4)]
    assert [(f.check, f.line) for f in A.schema_routing_tests(ctx)] == [("schema/routing-tests", 1)]
