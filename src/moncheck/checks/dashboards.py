"""Checks of Grafana dashboards: schema, uid, datasource variable, deprecated panels, queries."""

from __future__ import annotations

import re
from typing import Any

from moncheck.checks.base import Context, validate
from moncheck.checks.rules import quantile_findings, rate_findings, unknown_metric_findings
from moncheck.findings import Finding, error
from moncheck.promql import analyze, strip_grafana_vars

# Grafana's built-in pseudo datasources are not hard-coded instances.
_BUILTIN_DS = {"-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana", "datasource"}


def schema_dashboard(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for d in ctx.inv.dashboards:
        out += validate(ctx, "schema/dashboard", "dashboard", d.path, d.data)
    return out


def dashboards_uid(ctx: Context) -> list[Finding]:
    out = []
    first: dict[str, str] = {}
    for d in ctx.inv.dashboards:
        if not d.uid:
            out.append(error("dashboards/uid", d.path, d.line, f"dashboard {d.title!r} has no uid",
                             "set a stable uid: links and provisioning depend on it"))
        elif d.uid in first:
            out.append(error("dashboards/uid", d.path, d.line, f"dashboard uid {d.uid!r} is also used by {first[d.uid]}"))
        else:
            first[d.uid] = d.path
    return out


def _ds_hardcoded(ds: Any) -> str | None:
    """The hard-coded datasource reference, or None if it is a variable / default / built-in."""
    if ds is None:
        return None
    if isinstance(ds, str):
        return None if ds.startswith("$") or ds in _BUILTIN_DS else ds
    if isinstance(ds, dict):
        uid = ds.get("uid")
        if uid is None or (isinstance(uid, str) and (uid.startswith("$") or uid in _BUILTIN_DS)):
            return None
        return str(uid)
    return str(ds)


def dashboards_datasource_variable(ctx: Context) -> list[Finding]:
    out = []
    for d in ctx.inv.dashboards:
        has_var = any(v.get("type") == ctx.pol.datasource_variable_type for v in d.variables)
        queries = any(p.targets for p in d.panels)
        if queries and not has_var:
            out.append(error("dashboards/datasource-variable", d.path, getattr(d.data, "line", 1),
                             f"dashboard {d.title!r} has no datasource template variable",
                             'add templating.list entry {"name": "datasource", "type": "datasource", "query": "prometheus"}'))
        for p in d.panels:
            ds = _ds_hardcoded(p.datasource)
            if ds is not None:
                out.append(error("dashboards/datasource-variable", d.path, p.line,
                                 f"panel {p.title!r} hard-codes datasource {ds!r}", "use ${datasource}"))
    return out


def dashboards_deprecated_panel(ctx: Context) -> list[Finding]:
    out = []
    for d in ctx.inv.dashboards:
        for p in d.panels:
            if p.type in ctx.pol.deprecated_panels:
                out.append(error("dashboards/deprecated-panel", d.path, p.line,
                                 f"panel {p.title!r} uses deprecated panel type {p.type!r}",
                                 "graph -> timeseries, singlestat -> stat, table-old -> table"))
    return out


_LOGQL = re.compile(r"\}\s*(\|[=~]|!=\s*\"|!~\s*\")|\|\s*(json|logfmt|pattern|regexp|line_format|label_format|unwrap)\b|\b(bytes_over_time|bytes_rate)\s*\(")


def not_prometheus(ds: Any, expr: str) -> bool:
    """A query for another datasource (Loki, Elasticsearch, ...): not PromQL, not judged."""
    kind = ds.get("type") if isinstance(ds, dict) else None
    ref = str(ds.get("uid", "") if isinstance(ds, dict) else ds or "").lower()
    if kind and kind != "prometheus" and not str(kind).startswith("$"):
        return True
    return "loki" in ref or bool(_LOGQL.search(expr))


def dashboards_query(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for d in ctx.inv.dashboards:
        for p in d.panels:
            for t in p.targets:
                if not t.expr.strip() or not_prometheus(t.datasource or p.datasource, t.expr):
                    continue  # an empty placeholder, or a Loki/other query
                expr = strip_grafana_vars(t.expr)
                what = f"panel {p.title!r} query {t.ref or '?'}"
                a = analyze(expr)
                if not a.ok:
                    out.append(error("dashboards/query", d.path, t.line, f"{what}: invalid PromQL: {a.error}"))
                    continue
                if ctx.inv.catalog is not None:
                    out += unknown_metric_findings(ctx, expr, d.path, t.line, what, "dashboards/query")
                    out += rate_findings(ctx, expr, d.path, t.line, what, "dashboards/query")
                out += quantile_findings(ctx, expr, d.path, t.line, what, "dashboards/query")
    return out


