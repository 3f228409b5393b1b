"""The SLO Grafana dashboard: budget remaining, burn rate per window, SLI over time.

Generic over SLOs (a `slo` variable selects `sloth_id`), so any Sloth-compatible rules feed it;
it is generated here only to keep it consistent with the rule names (drift-checked).
"""

from __future__ import annotations

import json
from typing import Any

DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'sloth_id=~"$slo"'


def _target(ref: str, expr: str, legend: str) -> dict[str, Any]:
    return {"refId": ref, "datasource": DS, "expr": expr, "legendFormat": legend}


def _panel(pid: int, kind: str, title: str, desc: str, pos: tuple[int, int, int, int],
           targets: list[dict[str, Any]], unit: str, **extra: Any) -> dict[str, Any]:
    x, y, w, h = pos
    steps = extra.pop("steps", [{"color": "green", "value": None}])
    defaults: dict[str, Any] = {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}
    defaults.update(extra.pop("defaults", {}))
    p = {"id": pid, "type": kind, "title": title, "description": desc,
         "gridPos": {"x": x, "y": y, "w": w, "h": h}, "datasource": DS, "targets": targets,
         "fieldConfig": {"defaults": defaults, "overrides": []}}
    if kind in ("stat", "gauge"):
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        **({"colorMode": "value", "graphMode": "none", "textMode": "auto"}
                           if kind == "stat" else {"showThresholdMarkers": True})}
    else:
        p["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}}
    p.update(extra)
    return p


def dashboard() -> dict[str, Any]:
    budget_steps = [{"color": "red", "value": None}, {"color": "orange", "value": 0.25},
                    {"color": "green", "value": 0.5}]
    burn_steps = [{"color": "green", "value": None}, {"color": "orange", "value": 1},
                  {"color": "red", "value": 6}]
    legend = "{{sloth_service}} {{sloth_slo}}"
    panels = [
        _panel(1, "stat", "Objective", "Target share of good events over the SLO period "
               "(slo:objective:ratio).", (0, 0, 4, 5),
               [_target("A", f"slo:objective:ratio{{{SEL}}}", legend)], "percentunit",
               defaults={"decimals": 3}),
        _panel(2, "gauge", "Error budget remaining", "Share of the period's error budget left "
               "(slo:period_error_budget_remaining:ratio); 0 = exhausted.", (4, 0, 6, 5),
               [_target("A", f"slo:period_error_budget_remaining:ratio{{{SEL}}}", legend)],
               "percentunit", steps=budget_steps, defaults={"min": 0, "max": 1}),
        _panel(3, "stat", "Current burn rate", "Error ratio over 5m divided by the error budget "
               "(slo:current_burn_rate:ratio); 1 spends the budget exactly over the period.",
               (10, 0, 5, 5),
               [_target("A", f"slo:current_burn_rate:ratio{{{SEL}}}", legend)], "x",
               steps=burn_steps, defaults={"decimals": 2}),
        _panel(4, "stat", "Period burn rate", "Burn rate over the whole SLO period "
               "(slo:period_burn_rate:ratio).", (15, 0, 4, 5),
               [_target("A", f"slo:period_burn_rate:ratio{{{SEL}}}", legend)], "x",
               steps=burn_steps, defaults={"decimals": 2}),
        _panel(5, "stat", "Period (days)", "SLO period (slo:time_period:days).", (19, 0, 5, 5),
               [_target("A", f"slo:time_period:days{{{SEL}}}", legend)], "d"),
        _panel(6, "timeseries", "Burn rate per window", "Error ratio of each alert window divided "
               "by the error budget. Page: 14.4x over 1h and 5m, or 6x over 6h and 30m; ticket: "
               "3x over 1d and 2h, or 1x over 3d and 6h (30d period).", (0, 5, 24, 9),
               [_target("A", f'{{__name__=~"slo:sli_error:ratio_rate.+", {SEL}}}\n'
                        f"/ on(sloth_id) group_left\nslo:error_budget:ratio{{{SEL}}}",
                        "{{sloth_slo}} {{sloth_window}}")],
               "x", steps=burn_steps,
               defaults={"custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 0,
                                    "thresholdsStyle": {"mode": "dashed"}}}),
        _panel(7, "timeseries", "SLI over time", "Share of good events (1 - error ratio) over 5m "
               "and 1h, with the objective.", (0, 14, 12, 9),
               [_target("A", f"1 - slo:sli_error:ratio_rate5m{{{SEL}}}", "{{sloth_slo}} 5m"),
                _target("B", f"1 - slo:sli_error:ratio_rate1h{{{SEL}}}", "{{sloth_slo}} 1h"),
                _target("C", f"slo:objective:ratio{{{SEL}}}", "{{sloth_slo}} objective")],
               "percentunit", defaults={"decimals": 3, "max": 1}),
        _panel(8, "timeseries", "Error budget remaining over time", "Remaining share of the "
               "period's error budget (slo:period_error_budget_remaining:ratio).", (12, 14, 12, 9),
               [_target("A", f"slo:period_error_budget_remaining:ratio{{{SEL}}}", legend)],
               "percentunit", steps=budget_steps),
    ]
    return {
        "uid": "moncheck-slo",
        "title": "GoCarbonTracker - SLOs",
        "description": "Error budgets and burn rates of the SLOs in monitoring/slos "
                       "(Sloth-compatible recording rules). Generated by `moncheck slo generate`.",
        "tags": ["gocarbon", "slo"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
             "options": []},
            {"name": "slo", "label": "SLO", "type": "query", "datasource": DS,
             "query": {"query": "label_values(slo:objective:ratio, sloth_id)", "refId": "slo"},
             "definition": "label_values(slo:objective:ratio, sloth_id)",
             "current": {}, "includeAll": True, "allValue": ".+", "multi": True, "refresh": 2,
             "sort": 1, "hide": 0, "options": []},
        ]},
        "annotations": {"list": [
            {"name": "SLO alerts", "enable": True, "datasource": DS, "iconColor": "red",
             "expr": 'ALERTS{alertstate="firing", sloth_id=~"$slo"}',
             "titleFormat": "{{alertname}} ({{sloth_severity}})", "tagKeys": "severity,team",
             "step": "60s"}]},
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"
