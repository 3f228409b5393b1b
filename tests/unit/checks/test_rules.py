from __future__ import annotations

import pytest

from moncheck.checks import rules as R
from moncheck.checks.base import Skip

from checkhelp import alert, rules

F = "monitoring/prometheus/rules/r.yml"

# (id, check function, expression, expected number of findings)
EXPR_CASES = [
    ("parse-ok", R.promql_parse, "up == 0", 0),
    ("parse-bad", R.promql_parse, "rate(up[5m]", 1),
    ("metric-known", R.promql_unknown_metric, "rate(http_requests_total[5m]) > 1", 0),
    ("metric-unknown", R.promql_unknown_metric, "rate(nope_total[5m]) > 1", 1),
    ("label-unknown", R.promql_unknown_metric, 'rate(http_requests_total{path="/x"}[5m]) > 1', 1),
    ("label-target", R.promql_unknown_metric, 'up{job="api", instance="a"} == 0', 0),
    ("label-value-not-cataloged", R.promql_unknown_metric, 'rate(http_requests_total{method="GOT"}[5m]) > 1', 1),
    ("by-label-missing", R.promql_unknown_metric, "sum by (tenant) (rate(http_requests_total[5m])) > 1", 1),
    ("bucket-le", R.promql_unknown_metric, 'http_request_duration_seconds_bucket{le="1"} > 0', 0),
    ("rate-counter", R.promql_rate_on_non_counter, "rate(http_requests_total[5m]) > 1", 0),
    ("rate-bucket", R.promql_rate_on_non_counter, "rate(http_request_duration_seconds_count[5m]) > 1", 0),
    ("rate-gauge", R.promql_rate_on_non_counter, "increase(http_active_connections[5m]) > 1", 1),
    ("quantile-ok", R.promql_histogram_quantile,
     "histogram_quantile(0.9, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m]))) > 1", 0),
    ("quantile-no-le", R.promql_histogram_quantile,
     "histogram_quantile(0.9, sum by (route) (rate(http_request_duration_seconds_bucket[5m]))) > 1", 1),
    ("quantile-without-le", R.promql_histogram_quantile,
     "histogram_quantile(0.9, sum without (le) (rate(http_request_duration_seconds_bucket[5m]))) > 1", 1),
    ("quantile-not-bucket", R.promql_histogram_quantile,
     "histogram_quantile(0.9, rate(http_request_duration_seconds_sum[5m])) > 1", 1),
    ("quantile-no-rate", R.promql_histogram_quantile,
     "histogram_quantile(0.9, http_request_duration_seconds_bucket) > 1", 1),
]


@pytest.mark.parametrize("fn,expr,n", [c[1:] for c in EXPR_CASES], ids=[c[0] for c in EXPR_CASES])
def test_expression_checks(repo, fn, expr, n) -> None:
    ctx = repo({F: rules(alert(expr=expr))})
    found = fn(ctx)
    assert len(found) == n, found
    assert all(f.line == 5 and f.path == F for f in found)


def test_recording_rule_feeds_catalog_and_labels(repo) -> None:
    rec = "      - record: job:http_requests:rate5m\n        expr: sum by (job) (rate(http_requests_total[5m]))\n"
    ctx = repo({F: rules(rec, alert(expr='job:http_requests:rate5m{route="x"} > 1',
                                    annotations={"summary": "{{ $labels.job }}", "description": "{{ $labels.route }}",
                                                 "runbook_url": "u"}))})
    assert [f.message for f in R.promql_unknown_metric(ctx)] == [
        "alert 'TargetDown': label 'route' is not a label of 'job:http_requests:rate5m'"]
    assert [f.line for f in R.alerts_template(ctx)] == [14]


TEMPLATE_CASES = [
    ("ok", "{{ $labels.job }} is {{ $value | humanize }}", 0),
    ("kept-by-on", "{{ $labels.instance }}", 0),
    ("unbalanced", "{{ $labels.job }", 1),
    ("undefined-var", "{{ $foo }}", 1),
    ("declared-var", "{{ $x := $value }}{{ $x }}", 0),
    ("if-end", "{{ if gt $value 1.0 }}big{{ end }}", 0),
    ("if-no-end", "{{ if gt $value 1.0 }}big", 1),
    ("label-dropped", "{{ $labels.route }}", 1),
]


@pytest.mark.parametrize("text,n", [c[1:] for c in TEMPLATE_CASES], ids=[c[0] for c in TEMPLATE_CASES])
def test_alerts_template(repo, text, n) -> None:
    ctx = repo({F: rules(alert(expr="sum by (job, instance) (up) == 0",
                               annotations={"summary": "s", "description": text, "runbook_url": "u"}))})
    assert len(R.alerts_template(ctx)) == n


POLICY_CASES = [
    ("labels-ok", R.alerts_required_labels, {}, 0),
    ("no-team", R.alerts_required_labels, {"team": "''"}, 1),
    ("annotations-missing", R.alerts_required_annotations, {"annotations": {"summary": "s"}}, 2),
    ("severity-ok", R.alerts_severity, {"severity": "warning", "for_": "10m"}, 0),
    ("severity-bad", R.alerts_severity, {"severity": "P1"}, 1),
    ("for-ok", R.alerts_for, {"for_": "2m"}, 0),
    ("for-short", R.alerts_for, {"for_": "1m"}, 1),
    ("for-zero", R.alerts_for, {"for_": "0s"}, 1),
    ("name-camel", R.alerts_name, {"name": "target_down"}, 1),
]
ORG_POLICY = {"alert_name_pattern": "^[A-Z][a-zA-Z0-9]*$"}


@pytest.mark.parametrize("fn,kw,n", [c[1:] for c in POLICY_CASES], ids=[c[0] for c in POLICY_CASES])
def test_alert_policy(repo, fn, kw, n) -> None:
    ctx = repo({F: rules(alert(**kw))}, pol=ORG_POLICY)
    assert len(fn(ctx)) == n


def test_names_are_free_without_a_pattern(repo) -> None:
    assert R.alerts_name(repo({F: rules(alert(name="target_down"))})) == []


PROM = "monitoring/prometheus/prometheus.yml"


def test_duplicate_alert_across_files_one_prometheus_loads(repo) -> None:
    ctx = repo({F: rules(alert()), "monitoring/prometheus/rules/z.yml": rules(alert()),
                PROM: "rule_files: [rules/*.yml]\n"})
    (f,) = R.alerts_name(ctx)
    assert (f.check, f.path, f.line) == ("alerts/name", "monitoring/prometheus/rules/z.yml", 4)
    assert f.message == "duplicate alert 'TargetDown': same labels and expression as at monitoring/prometheus/rules/r.yml:4"


def test_per_environment_files_are_not_duplicates(repo) -> None:
    """Files no prometheus.yml loads together (prod/ and staging/ copies) are separate servers."""
    ctx = repo({"monitoring/prometheus/rules/prod/r.yml": rules(alert()),
                "monitoring/prometheus/rules/staging/r.yml": rules(alert())})
    assert R.alerts_name(ctx) == []


def test_multi_window_burn_rate_alerts_are_not_duplicates(repo) -> None:
    fast = alert(name="ErrorBudgetBurn", severity="critical", expr="rate(http_requests_total[5m]) > 14.4")
    slow = alert(name="ErrorBudgetBurn", severity="critical", expr="rate(http_requests_total[6h]) > 6")
    assert R.alerts_name(repo({F: rules(fast, slow)})) == []
    (dup,) = R.alerts_name(repo({F: rules(fast, fast)}))
    assert (dup.line, dup.message) == (14, f"duplicate alert 'ErrorBudgetBurn': same labels and expression as at {F}:4")


def test_for_hint_respects_single_event_alerts(repo) -> None:
    """Raising `for` past the range of an event expression would make one event never fire."""
    pol = {"min_for": {"critical": "10m", "high": "2m"}}
    ctx = repo({F: rules(alert(expr="increase(http_requests_total[5m]) > 0", for_="0s", severity="critical"),
                         alert(name="Slow", expr="http_active_connections > 10", for_="1m"))}, pol=pol)
    event, level = R.alerts_for(ctx)
    assert (event.line, event.message) == (6, "alert 'TargetDown': for 0s is shorter than the 10m required for severity 'critical'")
    assert event.hint == ("one event keeps this expression true for only 5m (its range): a 'for' of 10m would never fire "
                          "on it; widen the range to more than 10m as well")
    assert (level.line, level.hint) == (16, "raise 'for' to at least 2m: a page must outlast a blip")


def test_labels_inside_range_query_are_not_the_alerts(repo) -> None:
    text = '{{ range query "up == 0" }}{{ .Labels.pod }} {{ end }}{{ .Labels.job }} {{ .Labels.route }}'
    ctx = repo({F: rules(alert(expr="sum by (job) (up) == 0", annotations={"summary": "s", "description": text}))})
    assert [(f.line, f.message) for f in R.alerts_template(ctx)] == [
        (12, "alert 'TargetDown', description: $labels.route is not a label of the expression's result")]


def test_info_metric_join_inside_histogram_quantile(tmp_path) -> None:
    """Loose files (no catalog): the join adds labels; the buckets come from the left side."""
    from moncheck.checks.base import Context
    from moncheck.inventory import load_paths
    from moncheck.policy import Policy

    ok = ("histogram_quantile(0.9, sum by (le, team) (rate(http_request_duration_seconds_bucket[5m]) "
          "* on (instance) group_left (team) service_info)) > 1")
    bad = "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_sum[5m]))) > 1"
    (tmp_path / "r.yml").write_text(rules(alert(expr=ok), alert(name="Bad", expr=bad)))
    found = R.promql_histogram_quantile(Context(load_paths([tmp_path / "r.yml"], tmp_path), Policy()))
    assert [(f.line, f.message) for f in found] == [
        (15, "alert 'Bad': histogram_quantile() over 'http_request_duration_seconds_sum', which is not a _bucket series")]


def test_empty_rules_group_is_valid(repo) -> None:
    ctx = repo({F: "groups:\n  - name: empty\n    rules:\n  - name: also\n    rules: []\n"})
    assert R.schema_rules(ctx) == []


def test_group_labels_apply_to_every_rule(repo) -> None:
    """Prometheus 3 group `labels:`: the team is there, and the rule's own label wins."""
    text = ("groups:\n  - name: g\n    labels:\n      team: platform\n      severity: info\n    query_offset: 1m\n    limit: 10\n"
            "    rules:\n      - alert: A\n        expr: up == 0\n        labels:\n          severity: high\n")
    ctx = repo({F: text})
    assert R.schema_rules(ctx) == []
    assert R.alerts_required_labels(ctx) == []
    (r,) = ctx.inv.alerts
    assert (r.labels, r.label_lines) == ({"team": "platform", "severity": "high"}, {"team": 4, "severity": 12})


def test_runbook_with_prefix(repo) -> None:
    pol = {"runbook_url_prefix": "https://x.example/monitoring/runbooks/"}
    ctx = repo({F: rules(alert(), alert(name="Other"),
                         alert(name="Elsewhere", annotations={"summary": "s", "description": "d",
                                                              "runbook_url": "https://wiki/Elsewhere"})),
                "monitoring/runbooks/TargetDown.md": "# x\n"}, pol=pol)
    found = R.alerts_runbook(ctx)
    assert [(f.line, "does not exist" in f.message) for f in found] == [(23, True), (33, False)]


def test_runbook_skipped_in_loose_mode(tmp_path) -> None:
    from moncheck.checks.base import Context
    from moncheck.inventory import load_paths
    from moncheck.policy import Policy

    (tmp_path / "r.yml").write_text(rules(alert()))
    with pytest.raises(Skip):
        R.alerts_runbook(Context(load_paths([tmp_path / "r.yml"], tmp_path), Policy()))


def test_team_allowed(repo) -> None:
    ctx = repo({F: rules(alert(team="ops"))}, pol={"settings": {"allowed_teams": ["platform"]}})
    assert [f.check for f in R.alerts_team(ctx)] == ["alerts/team"]


def test_same_name_other_severity_is_a_tier_not_a_duplicate(repo) -> None:
    ctx = repo({F: rules(alert(severity="warning", for_="10m"), alert(severity="critical"), alert(severity="critical"))})
    assert [(f.line, f.message) for f in R.alerts_name(ctx)] == [
        (24, f"duplicate alert 'TargetDown': same labels and expression as at {F}:14")]


THRESHOLD_CASES = [
    ("bound", "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 1", 0),
    ("not-bound", "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 2", 1),
    ("reversed", "2 < histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", 1),
    ("via-record", "job:latency:p90 > 0.5", 1),
    ("via-record-bound", "job:latency:p90 > 0.1", 0),
]


@pytest.mark.parametrize("expr,n", [c[1:] for c in THRESHOLD_CASES], ids=[c[0] for c in THRESHOLD_CASES])
def test_quantile_threshold_is_a_bucket_bound(repo, expr, n) -> None:
    rec = ("      - record: job:latency:p90\n        expr: histogram_quantile(0.9, sum by (job, le) "
           "(rate(http_request_duration_seconds_bucket[5m])))\n")
    ctx = repo({F: rules(rec, alert(expr=expr))})
    found = [f for f in R.promql_histogram_quantile(ctx) if "bucket bound" in f.message]
    assert len(found) == n, found
