"""Generated promtool unit tests: per SLO, a fast burn pages, a slow burn opens a ticket and
does not page, and a burn within budget stays silent.

Traffic is constant from t=0, so every window sees the same error ratio and the scenarios are
exact: ratio = burn x error budget, with the burn placed well between the thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from moncheck.slo import promql
from moncheck.slo.catalog import Catalog
from moncheck.slo.gofmt import parse_duration, prom_duration
from moncheck.slo.model import SLO
from moncheck.slo.rules import WINDOW_LABEL, Info, Rule, alert_rules, windows_of
from moncheck.slo.synth import Workload, synthesise
from moncheck.slo.windows import Window, Windows

REQUESTS_PER_MINUTE = 100.0
NO_ALERTS = "the SLO has no alerts"
SETTLE_MINUTES = 10  # after the longest `for:`, so pending alerts have turned firing
_LABEL_TPL = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


@dataclass
class Scenario:
    title: str
    burn: float  # multiple of the error budget


def scenarios(ws: Windows, budget: float) -> list[Scenario]:
    f = ws.factor
    page_min = min(f(ws.page_quick), f(ws.page_slow))
    ticket_max = max(f(ws.ticket_quick), f(ws.ticket_slow))
    lowest = min(page_min, f(ws.ticket_quick), f(ws.ticket_slow))
    out = []
    fast = min(1.25 * max(f(ws.page_quick), f(ws.page_slow)), 1 / budget)
    if fast > page_min:
        out.append(Scenario("fast burn pages", fast))
    slow = (ticket_max + page_min) / 2
    if ticket_max < page_min and slow * budget <= 1:
        out.append(Scenario("slow burn opens a ticket and does not page", slow))
    out.append(Scenario("burn within budget stays silent", lowest / 2))
    return out


def _fmt(x: float) -> str:
    s = repr(round(x, 9))
    return s[:-2] if s.endswith(".0") else s


def _input_series(w: Workload, ratio: float, minutes: int) -> list[dict[str, str]]:
    good, bad = REQUESTS_PER_MINUTE * (1 - ratio), REQUESTS_PER_MINUTE * ratio
    out = []
    for s in w.series:
        inc = s.per_good * good + s.per_bad * bad
        out.append({"series": s.text(), "values": f"0+{_fmt(inc)}x{minutes}"})
    return out


def _expand(text: str, labels: dict[str, str]) -> str | None:
    out = _LABEL_TPL.sub(lambda m: labels.get(m.group(1), "<no value>"), text)
    return None if "{{" in out else out


def _fires(ws: Windows, w: Window, ratio: float, budget: float) -> bool:
    return ratio > ws.factor(w) * budget


def _expected(slo: SLO, rule: Rule, ws: Windows, info: Info, ratio: float,
              budget: float) -> dict[str, Any] | str | None:
    quick, slow = ((ws.page_quick, ws.page_slow) if rule.labels.get("sloth_severity") == "page"
                   else (ws.ticket_quick, ws.ticket_slow))
    if _fires(ws, quick, ratio, budget):
        window = quick.short_ms
    elif _fires(ws, slow, ratio, budget):
        window = slow.short_ms
    else:
        return None
    series = {**info.extra_labels, **slo.id_labels(), WINDOW_LABEL: prom_duration(window),
              **slo.labels}
    labels = {**series, **rule.labels}
    annotations = {}
    for k, v in rule.annotations.items():
        e = _expand(v, series)  # Prometheus expands $labels from the expression's result
        if e is None:
            return f"annotation {k!r} uses templates other than $labels"
        annotations[k] = e
    return {"exp_labels": dict(sorted(labels.items())),
            "exp_annotations": dict(sorted(annotations.items()))}


def slo_tests(slo: SLO, catalog: Catalog | None, info: Info) -> tuple[list[dict[str, Any]], str]:
    """The promtool test cases for one SLO, or ([], reason) when it cannot be tested."""
    rules = alert_rules(slo, windows_of(slo))
    if not rules:
        return [], NO_ALERTS
    if slo.total_query and promql.top_level_grouping(promql.fill_window(slo.total_query, "5m")):
        return [], "the SLI keeps labels (aggregate without `by` to get one series)"
    work, why = synthesise(slo, catalog)
    if work is None:
        return [], why
    ws = windows_of(slo)
    budget = (100 - slo.objective) / 100
    longest_for_ms = max((parse_duration(r.for_) for r in rules if r.for_), default=0)
    first = SETTLE_MINUTES + -(-longest_for_ms // 60_000)  # minutes, rounded up
    eval_minutes = (first, first + 60)
    tests = []
    for sc in scenarios(ws, budget):
        ratio = sc.burn * budget
        alert_tests = []
        by_name: dict[str, list[Any]] = {}
        for rule in rules:
            exp = _expected(slo, rule, ws, info, ratio, budget)
            if isinstance(exp, str):
                return [], exp
            by_name.setdefault(rule.alert or "", [])
            if exp is not None:
                by_name[rule.alert or ""].append(exp)
        for t in eval_minutes:
            for name, exps in by_name.items():
                alert_tests.append({"eval_time": f"{t}m", "alertname": name, "exp_alerts": exps})
        tests.append({
            "name": f"{slo.id}: {sc.title} (error ratio {_fmt(ratio)}, "
                    f"{_fmt(sc.burn)}x the budget)",
            "interval": "1m",
            "input_series": _input_series(work, ratio, eval_minutes[-1]),
            "alert_rule_test": alert_tests,
        })
    return tests, ""


def test_file(rule_file_rel: str, tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rule_files": [rule_file_rel], "evaluation_interval": "1m", "tests": tests}
