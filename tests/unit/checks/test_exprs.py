"""Table tests of the expression-bug checks: each case asserts the check id, line and message."""

from __future__ import annotations

import pytest
from checkhelp import alert, rules

from moncheck.checks import exprs as X

F = "monitoring/prometheus/rules/r.yml"
REC = "      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n"

# (id, check function, expression, expected message, or None for no finding)
CASES = [
    ("ratio-no-shared-labels", X.promql_impossible_match,
     "sum by (route) (rate(http_requests_total[5m])) / sum(rate(http_requests_total[5m])) > 0.1",
     "alert 'TargetDown': the two sides of '/' can never match: only the left side has 'route' "
     "(left keeps (route), right keeps ()), so the result is always empty"),
    ("ratio-on-group-left", X.promql_impossible_match,
     "sum by (route) (rate(http_requests_total[5m])) / on() group_left sum(rate(http_requests_total[5m])) > 0.1", None),
    ("ratio-same-by", X.promql_impossible_match,
     "sum by (route) (rate(http_requests_total{status_code=~\"5..\"}[5m])) / sum by (route) (rate(http_requests_total[5m])) > 0.1", None),
    ("uncataloged-by-mismatch", X.promql_impossible_match,
     "sum by (job) (rate(a_total[5m])) / sum by (instance) (rate(b_total[5m])) > 1",
     "alert 'TargetDown': the two sides of '/' can never match: only the right side has 'instance' "
     "(left keeps (job), right keeps (instance)), so the result is always empty"),
    ("uncataloged-raw-series", X.promql_impossible_match, "rate(a_total[5m]) / rate(b_total[5m]) > 1", None),
    ("vector-of-labels-vs-vector", X.promql_impossible_match, "sum by (job) (up) / vector(2) > 1",
     "alert 'TargetDown': the two sides of '/' can never match: only the left side has 'job' "
     "(left keeps (job), right keeps ()), so the result is always empty"),
    ("and-on-nothing", X.promql_impossible_match, "up == 0 and on() vector(1)", None),
    ("count-by-eq-zero", X.promql_count_zero, "count(up) by (job) == 0",
     "alert 'TargetDown': count() == 0 is never true: count() returns no series at all when nothing matches, never 0"),
    ("count-lt-one-mirrored", X.promql_count_zero, "1 > count(up)",
     "alert 'TargetDown': count() < 1 is never true: count() returns no series at all when nothing matches, never 0"),
    ("count-or-vector", X.promql_count_zero, "(count(up) by (job) or vector(0)) == 0", None),
    ("count-lt-three", X.promql_count_zero, "count(up) by (job) < 3", None),
    ("absent-eq-zero", X.promql_count_zero, "absent(up{job=\"api\"}) == 0",
     "alert 'TargetDown': absent() == 0 is never true: absent() returns no series at all when nothing matches, never 0"),
    ("no-comparison", X.alerts_no_comparison, "rate(http_requests_total[5m])",
     "alert 'TargetDown': the expression has no condition (comparison, and/unless, absent), so it fires for every "
     "series it selects, all the time"),
    ("comparison-bool", X.alerts_no_comparison, "up == bool 0",
     "alert 'TargetDown': the expression has no condition (comparison, and/unless, absent), so it fires for every "
     "series it selects, all the time"),
    ("heartbeat", X.alerts_no_comparison, "vector(1)", None),
    ("info-metric-state", X.alerts_no_comparison, "kube_node_info{kernel_version=~\"3.*\"}", None),
    ("info-metric-all", X.alerts_no_comparison, "kube_node_info",
     "alert 'TargetDown': the expression has no condition (comparison, and/unless, absent), so it fires for every "
     "series it selects, all the time"),
    ("absent", X.alerts_no_comparison, "absent(up{job=\"api\"})", None),
    ("comparison-inside", X.alerts_no_comparison, "sum by (job) (up == 0)", None),
    ("or-one-side-unconditional", X.alerts_no_comparison, "up == 0 or up",
     "alert 'TargetDown': the expression has no condition (comparison, and/unless, absent), so it fires for every "
     "series it selects, all the time"),
    ("regex-anchors", X.promql_regex_anchors, "up{job=~\"^api$\"} == 0",
     "alert 'TargetDown': job=~'^api$': Prometheus anchors regular expressions at both ends, so '^' and '$' are redundant"),
    ("regex-escaped-dollar", X.promql_regex_anchors, "up{job=~\"api.\\\\$\"} == 0", None),
    ("regex-no-anchor", X.promql_regex_anchors, "up{job=~\"api|web\"} == 0", None),
    ("regex-literal", X.promql_regex_literal, "up{job=~\"api\"} == 0",
     "alert 'TargetDown': job=~'api' has no regex special characters"),
    ("regex-literal-negative", X.promql_regex_literal, "up{job!~\"api\"} == 0",
     "alert 'TargetDown': job!~'api' has no regex special characters"),
    ("regex-real", X.promql_regex_literal, "up{job=~\"api.*\"} == 0", None),
]


@pytest.mark.parametrize("fn,expr,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_expression_bug_checks(repo, fn, expr, message) -> None:
    found = fn(repo({F: rules(alert(expr=expr))}))
    assert [(f.path, f.line, f.message) for f in found] == ([(F, 5, message)] if message else [])
    assert all(f.check == fn.__name__.replace("_", "/", 1).replace("_", "-") for f in found)


def test_no_comparison_follows_recording_rules(repo) -> None:
    rec = "      - record: job:errors:high\n        expr: sum by (job) (rate(http_requests_total[5m])) > 1\n"
    ctx = repo({F: rules(rec, REC, alert(expr="job:errors:high"), alert(name="Raw", expr="job:http_requests:rate5m"))})
    assert [(f.line, f.message.split(":")[0]) for f in X.alerts_no_comparison(ctx)] == [(19, "alert 'Raw'")]


HUMANIZE = [
    ("raw-rate", "rate(http_requests_total[5m]) > 1", "{{ $value }} req/s", True),
    ("humanized", "rate(http_requests_total[5m]) > 1", "{{ $value | humanize }} req/s", False),
    ("printf", "rate(http_requests_total[5m]) > 1", "{{ printf \"%.2f\" $value }}", False),
    ("ratio", "sum(rate(http_requests_total{status_code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) > 0.05",
     "{{ .Value }}", True),
    ("gauge", "http_active_connections > 100", "{{ $value }} connections", False),
    ("rate-equals-zero", "rate(http_requests_total[5m]) == 0", "{{ $value }} req/s", False),
    ("count", "count(rate(http_requests_total[5m]) > 1) > 2", "{{ $value }} routes", False),
]


@pytest.mark.parametrize("expr,text,flagged", [c[1:] for c in HUMANIZE], ids=[c[0] for c in HUMANIZE])
def test_value_humanize(repo, expr, text, flagged) -> None:
    ctx = repo({F: rules(alert(expr=expr, annotations={"summary": "s", "description": text}))})
    found = X.alerts_value_humanize(ctx)
    want = [("alerts/value-humanize", 12, "alert 'TargetDown', description: {{ $value }} of a rate or ratio prints every "
             "digit (e.g. 0.016666666666666666)")] if flagged else []
    assert [(f.check, f.line, f.message) for f in found] == want
