"""Availability against each SLO of ``monitoring/slos/*.yml`` (Sloth ``prometheus/v1`` specs).

The SLI queries carry ``{{.window}}``; the report substitutes its own period, so the figure is
"availability over the report's period", compared with the SLO's objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moncheck import yamlpos

SLO_DIR = "monitoring/slos"


@dataclass
class SloResult:
    id: str
    objective: float  # percent, e.g. 99.9
    availability: float | None  # percent over the period; None = no data
    error_ratio: float | None
    source: str  # file:line

    @property
    def met(self) -> bool | None:
        return None if self.availability is None else self.availability >= self.objective


def _specs(repo: Path, notes: list[str]) -> list[tuple[str, dict[str, Any], str]]:
    out = []
    for path in sorted((repo / SLO_DIR).glob("*.y*ml")):
        rel = str(path.relative_to(repo))
        try:
            doc = yamlpos.load(path, rel)
        except yamlpos.LoadError as e:
            notes.append(f"SLO spec skipped: {e}")
            continue
        if not isinstance(doc, dict) or doc.get("version") != "prometheus/v1":
            notes.append(f"SLO spec skipped: {rel}: not a Sloth prometheus/v1 spec")
            continue
        for slo in doc.get("slos") or []:
            if isinstance(slo, dict):
                out.append((f"{doc.get('service', '?')}-{slo.get('name', '?')}", slo,
                            f"{rel}:{yamlpos.line_of(slo)}"))
    return out


def error_ratio_expr(slo: dict[str, Any], window: str) -> str | None:
    sli = slo.get("sli") or {}
    if "events" in sli:
        ev = sli["events"] or {}
        err, total = ev.get("error_query"), ev.get("total_query")
        if not (err and total):
            return None
        return f"({err}) / ({total})".replace("{{.window}}", window)
    if "raw" in sli and (sli["raw"] or {}).get("error_ratio_query"):
        return f"({sli['raw']['error_ratio_query']})".replace("{{.window}}", window)
    return None


def evaluate_slos(prom: Any, repo: Path, window: str, at: float, notes: list[str]) -> list[SloResult]:
    from moncheck.promapi import ApiError

    results = []
    for slo_id, slo, where in _specs(repo, notes):
        try:
            objective = float(slo["objective"])
        except (KeyError, TypeError, ValueError):
            notes.append(f"SLO {slo_id} ({where}): objective is not a number")
            continue
        expr = error_ratio_expr(slo, window)
        if expr is None:
            notes.append(f"SLO {slo_id} ({where}): no events or raw SLI query (plugins are not evaluated)")
            continue
        try:
            ratio = prom.scalar(expr, at)
        except ApiError as e:
            notes.append(f"SLO {slo_id} ({where}): query failed: {e}")
            ratio = None
        avail = None if ratio is None else 100.0 * (1.0 - ratio)
        results.append(SloResult(slo_id, objective, avail, ratio, where))
    return results


SLO_PERIOD = "30d"  # Sloth prometheus/v1 specs have no period field: Sloth's default


def budget_series(prom: Any, repo: Path, start: float, end: float, step: float,
                  notes: list[str]) -> dict[str, list[tuple[float, float]]]:
    """SLO id -> (time, percent of the period's error budget left), over [start, end].

    At each step the SLI's error ratio over the SLO period ending there is compared with the
    budget ``1 - objective``: 100 = untouched, 0 = spent, negative = overspent."""
    from moncheck.promapi import ApiError

    out: dict[str, list[tuple[float, float]]] = {}
    for slo_id, slo, where in _specs(repo, []):
        try:
            budget = 1.0 - float(slo["objective"]) / 100.0
        except (KeyError, TypeError, ValueError):
            continue
        expr = error_ratio_expr(slo, SLO_PERIOD)
        if expr is None or budget <= 0:
            continue
        try:
            result = prom.query_range(expr, start, end, step)
        except ApiError as e:
            notes.append(f"SLO {slo_id} ({where}): budget query failed: {e}")
            continue
        values = result[0]["values"] if result else []
        out[slo_id] = [(t, 100.0 * (1.0 - v / budget)) for t, v in values if not math.isnan(v)]
    return out
