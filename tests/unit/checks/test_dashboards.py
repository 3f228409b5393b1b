from __future__ import annotations

import json

import pytest

from moncheck.checks import dashboards as D


def dash(uid: str = "d1", panels: list | None = None, var: bool = True) -> str:
    templ = [{"name": "datasource", "type": "datasource", "query": "prometheus"}] if var else []
    panels = panels if panels is not None else [
        {"title": "p", "type": "timeseries", "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[$__rate_interval]))"}]}]
    return json.dumps({"title": "T", "uid": uid, "templating": {"list": templ}, "panels": panels}, indent=2)


def P(type_: str = "timeseries", expr: str = "up", ds: object = None) -> dict:
    p = {"title": "p", "type": type_, "targets": [{"refId": "A", "expr": expr}]}
    if ds is not None:
        p["datasource"] = ds
    return p


G = "monitoring/grafana/dashboards/"

CASES = [
    ("clean", D.dashboards_uid, {"a.json": dash()}, 0),
    ("uid-duplicate", D.dashboards_uid, {"a.json": dash(), "b.json": dash()}, 1),
    ("uid-missing", D.dashboards_uid, {"a.json": dash(uid="")}, 1),
    ("ds-var-ok", D.dashboards_datasource_variable, {"a.json": dash()}, 0),
    ("ds-var-missing", D.dashboards_datasource_variable, {"a.json": dash(var=False)}, 1),
    ("ds-hardcoded-uid", D.dashboards_datasource_variable, {"a.json": dash(panels=[P(ds={"uid": "abc123"})])}, 1),
    ("ds-builtin", D.dashboards_datasource_variable, {"a.json": dash(panels=[P(ds="-- Grafana --")])}, 0),
    ("panel-graph", D.dashboards_deprecated_panel, {"a.json": dash(panels=[P("graph")])}, 1),
    ("panel-nested-row", D.dashboards_deprecated_panel,
     {"a.json": dash(panels=[{"type": "row", "title": "r", "panels": [P("table-old")]}])}, 1),
    ("query-ok-with-vars", D.dashboards_query,
     {"a.json": dash(panels=[P(expr='rate(http_requests_total{method=~"$method"}[$__rate_interval])')])}, 0),
    ("query-bad", D.dashboards_query, {"a.json": dash(panels=[P(expr="sum(")])}, 1),
    ("query-unknown-metric", D.dashboards_query, {"a.json": dash(panels=[P(expr="rate(nope_total[5m])")])}, 1),
    ("query-rate-gauge", D.dashboards_query, {"a.json": dash(panels=[P(expr="rate(http_active_connections[5m])")])}, 1),
    ("query-empty-placeholder", D.dashboards_query, {"a.json": dash(panels=[P(expr="")])}, 0),
    ("query-loki-datasource", D.dashboards_query,
     {"a.json": dash(panels=[P(expr='sum(count_over_time({job="x"} |~ "err" [5m]))', ds={"type": "loki", "uid": "${loki}"})])}, 0),
    ("query-logql-by-syntax", D.dashboards_query, {"a.json": dash(panels=[P(expr='{job="x"} | json | level="error"')])}, 0),
    ("query-topk-variable", D.dashboards_query,
     {"a.json": dash(panels=[P(expr="topk($k, sum by (route) (rate(http_requests_total[$__rate_interval])))")])}, 0),
]


@pytest.mark.parametrize("fn,files,n", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_dashboard_checks(repo, fn, files, n) -> None:
    ctx = repo({G + k: v for k, v in files.items()})
    found = fn(ctx)
    assert len(found) == n, found


def test_query_line_points_at_expr(repo) -> None:
    ctx = repo({G + "a.json": dash(panels=[P(expr="sum(")])})
    (f,) = D.dashboards_query(ctx)
    text = (ctx.inv.root / G / "a.json").read_text().splitlines()
    assert '"expr": "sum("' in text[f.line - 1]
