"""Error-budget report: each SLO's attainment and remaining budget over its period, read from a
live Prometheus by evaluating the spec's own queries over the whole period."""

from __future__ import annotations

import math
from dataclasses import dataclass

from moncheck.httpauth import HttpAuth
from moncheck.promapi import Prometheus
from moncheck.slo import promql
from moncheck.slo.gofmt import go_float, prom_duration
from moncheck.slo.model import SLO


@dataclass
class Row:
    slo: SLO
    error_ratio: float | None  # None: no data
    events: float | None = None

    @property
    def attainment(self) -> float | None:
        return None if self.error_ratio is None else 1 - self.error_ratio

    @property
    def budget_remaining(self) -> float | None:
        if self.error_ratio is None:
            return None
        budget = (100 - self.slo.objective) / 100
        return 1 - self.error_ratio / budget if budget > 0 else (1.0 if self.error_ratio == 0
                                                                 else -math.inf)


def measure(slo: SLO, base: str, timeout: float = 30.0, auth: HttpAuth | None = None) -> Row:
    """Raises ``promapi.ApiError`` when Prometheus cannot be reached or rejects a query
    (``auth``: the target's credentials and TLS, ``moncheck.httpauth``)."""
    prom = Prometheus(base, timeout, auth)
    period = prom_duration(slo.period_ms)
    if slo.error_ratio_query is not None:
        ratio = prom.scalar(promql.fill_window(slo.error_ratio_query, period))
        return Row(slo, ratio)
    total = prom.scalar(promql.fill_window(slo.total_query or "", period))
    if total is None or total == 0:
        return Row(slo, None, total)
    errors = prom.scalar(promql.fill_window(slo.error_query or "", period)) or 0.0
    return Row(slo, min(max(errors / total, 0.0), 1.0), total)


def _pct(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "-inf"
    return f"{x * 100:.{digits}f}%"


def render(rows: list[Row], base: str) -> str:
    lines = [f"SLO error budgets from {base}", ""]
    head = ("SLO", "objective", "period", "attainment", "budget left", "status")
    table = [head]
    for r in rows:
        left = r.budget_remaining
        status = ("no data" if left is None else "exhausted" if left <= 0
                  else "at risk" if left < 0.25 else "ok")
        table.append((r.slo.id, f"{go_float(r.slo.objective)}%", prom_duration(r.slo.period_ms),
                      _pct(r.attainment), _pct(left, 1), status))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for row in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    if any(r.error_ratio is None for r in rows):
        lines += ["", "no data: Prometheus returned no samples for the SLI's total query over "
                  "the period (no traffic yet, wrong job/labels, or a fresh Prometheus)."]
    return "\n".join(lines)
