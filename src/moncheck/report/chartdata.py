"""The data behind each chart of the report, as plain values (golden-tested; ``charts`` draws it).

Every chart spans exactly the report's period on its x axis, says the period in its title, and
marks the points of sparse series. Percent charts are in percent. Reference lines come from the
repository: the SLOs' error budgets and latency targets (``monitoring/slos/``), and the alert
thresholds of rules of the form ``<recording rule> > <number>`` on the same quantity.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from moncheck.report.collect import AlertRow, ReportData

SPARSE_POINTS = 60  # fewer points than this (or a gap of > 2 steps): draw markers
SEVERITY_ORDER = ("critical", "high", "warning", "info")
# Recording rules whose threshold belongs on a chart: chart -> (pattern, scale to the chart's unit)
THRESHOLD_RULES = {
    "error-ratio": (re.compile(r"http_requests_errors:ratio"), 100.0),
    "latency": (re.compile(r"http_request_duration_seconds:p\d+"), 1.0),
}
_COMPARISON = re.compile(r"^\s*(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)\s*>=?\s*(?P<value>[0-9.eE+-]+)\s*$")
_LE = re.compile(r'le\s*=~?\s*"(?P<le>[0-9]+(?:\.[0-9]+)?)')
BURN_FLOOR = -100.0  # budget charts stop here; lower values are said in the legend


@dataclass
class Line:
    label: str
    points: list[tuple[float, float]]
    markers: bool = False


@dataclass
class RefLine:
    label: str
    value: float
    kind: str  # "budget" | "threshold" | "target" | "zero"


@dataclass
class Bar:
    row: str  # "HighErrorRate (critical)"
    severity: str
    start: float
    end: float


@dataclass
class Chart:
    file: str
    title: str
    ylabel: str
    xlim: tuple[float, float]
    lines: list[Line] = field(default_factory=list)
    refs: list[RefLine] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)  # timeline charts only
    ymin: float | None = 0.0
    ymax: float | None = None  # None: fit the data
    note: str = ""  # said in the chart when there is nothing to draw

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Thresholds:
    """What the repository says about the charted quantities."""

    error_budgets: list[tuple[str, float]] = field(default_factory=list)  # (SLO id, budget %)
    latency_targets: list[tuple[str, float]] = field(default_factory=list)  # (SLO id, seconds)
    alerts: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # chart -> (alert, value)


def period_text(window: str) -> str:
    """``24h`` -> ``last 24 h``, ``1h30m`` -> ``last 1 h 30 m`` (chart titles)."""
    return "last " + " ".join(f"{n} {u}" for n, u in re.findall(r"(\d+)([a-z]+)", window))


def _sparse(points: list[tuple[float, float]], step: float) -> bool:
    if len(points) < SPARSE_POINTS:
        return True
    return any(b[0] - a[0] > 2 * step for a, b in pairwise(points))


def step_of(data: ReportData) -> float:
    from moncheck.report.collect import MAX_POINTS

    return max(data.scrape_interval_s, (data.end - data.start) / MAX_POINTS)


def thresholds(repo: Path) -> Thresholds:
    """SLO budgets and latency targets, and alert thresholds on the charted recording rules."""
    from moncheck import yamlpos
    from moncheck.inventory import load_repo
    from moncheck.report.slos import SLO_DIR

    budgets, targets = [], []
    for path in sorted((repo / SLO_DIR).glob("*.y*ml")):
        try:
            doc = yamlpos.load(path, str(path.relative_to(repo)))
        except yamlpos.LoadError:
            continue
        for slo in (doc or {}).get("slos") or [] if isinstance(doc, dict) else []:
            if not isinstance(slo, dict) or not isinstance(slo.get("objective"), (int, float)):
                continue
            sid = f"{doc.get('service', '?')}-{slo.get('name', '?')}"
            queries = " ".join(str(v) for v in ((slo.get("sli") or {}).get("events") or {}).values())
            m = _LE.search(queries)
            if m:
                targets.append((sid, float(m.group("le"))))
            elif "http_requests_total" in queries and "5.." in queries:  # the charted 5xx ratio
                budgets.append((sid, round(100.0 - float(slo["objective"]), 6)))
    alerts: dict[str, list[tuple[str, float]]] = {}
    try:
        rules = load_repo(repo).alerts
    except Exception:  # noqa: BLE001 - the gate reports broken rules; the report draws without
        rules = []
    for r in rules:
        m = _COMPARISON.match(r.expr or "")
        if not m:
            continue
        for chart, (pattern, scale) in THRESHOLD_RULES.items():
            if pattern.search(m.group("name")):
                alerts.setdefault(chart, []).append((r.name, float(m.group("value")) * scale))
    return Thresholds(budgets, targets, alerts)


def _title(what: str, data: ReportData) -> str:
    return f"{what}, {period_text(data.window)}"


def request_rate(data: ReportData) -> Chart:
    step = step_of(data)
    pts = data.series.get("request_rate") or []
    return Chart("request-rate.png", _title("Request rate", data), "requests/s", (data.start, data.end),
                 [Line("all requests", pts, _sparse(pts, step))],
                 note="" if pts else "no requests in the period")


def error_ratio(data: ReportData, th: Thresholds) -> Chart:
    step = step_of(data)
    pts = [(t, 100.0 * v) for t, v in data.series.get("error_ratio") or []]
    refs = [RefLine(f"error budget of {sid} ({b:g}%)", b, "budget") for sid, b in th.error_budgets]
    refs += [RefLine(f"{name} fires above {v:g}%", v, "threshold") for name, v in th.alerts.get("error-ratio", [])]
    return Chart("error-ratio.png", _title("Error ratio (5xx / all requests)", data), "% of requests",
                 (data.start, data.end), [Line("5xx ratio", pts, _sparse(pts, step))], refs,
                 note="" if pts else "no requests in the period")


def latency(data: ReportData, th: Thresholds) -> Chart:
    step = step_of(data)
    lines = [Line(k, data.series.get(k) or [], _sparse(data.series.get(k) or [], step)) for k in ("p50", "p95", "p99")]
    refs = [RefLine(f"latency target of {sid} ({v:g} s)", v, "target") for sid, v in th.latency_targets]
    refs += [RefLine(f"{name} fires above {v:g} s", v, "threshold") for name, v in th.alerts.get("latency", [])]
    return Chart("latency.png", _title("Latency percentiles", data), "seconds", (data.start, data.end),
                 lines, refs, note="" if any(ln.points for ln in lines) else "no requests in the period")


def _severity_key(a: AlertRow) -> tuple[int, str]:
    rank = SEVERITY_ORDER.index(a.severity) if a.severity in SEVERITY_ORDER else len(SEVERITY_ORDER)
    return rank, a.alertname


def alert_timeline(data: ReportData) -> Chart:
    bars = []
    for a in sorted(data.alerts, key=_severity_key):
        row = f"{a.alertname} ({a.severity or 'no severity'})"
        for start, end in a.intervals or [(a.first_seen, a.last_seen)]:
            bars.append(Bar(row, a.severity, max(start, data.start), min(end, data.end)))
    return Chart("alerts.png", _title("Alerts firing", data), "", (data.start, data.end), bars=bars, ymin=None,
                 note="" if bars else "no alert fired in the period")


def burn_down(data: ReportData) -> list[Chart]:
    """One chart per SLO: error budget remaining (percent of its period's budget) over time."""
    step = step_of(data)
    out = []
    for sid, series in sorted(data.budget_series.items()):
        slo = next((s for s in data.slos if s.id == sid), None)
        objective = f" ({slo.objective:g}% objective)" if slo else ""
        pts = series
        lowest = min((v for _, v in pts), default=0.0)
        label = "budget remaining" + (f" (lowest {lowest:,.0f}%, below the chart)" if lowest < BURN_FLOOR else "")
        out.append(Chart(f"budget-{re.sub(r'[^a-z0-9]+', '-', sid.lower()).strip('-')}.png",
                         _title(f"Error budget remaining, {sid}{objective}", data), "% of budget left",
                         (data.start, data.end), [Line(label, pts, _sparse(pts, step))],
                         [RefLine("budget exhausted", 0.0, "zero")],
                         ymin=max(BURN_FLOOR, min(lowest, 0.0) - 5.0), ymax=105.0,
                         note="" if pts else "no data for this SLO in the period"))
    return out


def build(data: ReportData, th: Thresholds) -> list[Chart]:
    """Every chart of the report, in the order the Markdown shows them."""
    return [request_rate(data), error_ratio(data, th), latency(data, th), alert_timeline(data), *burn_down(data)]
