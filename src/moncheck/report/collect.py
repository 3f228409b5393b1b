"""Collect the daily report's data from Prometheus, Alertmanager and the service's /health."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import requests

from moncheck import httpauth
from moncheck.promapi import Alertmanager, ApiError, Prometheus, format_duration
from moncheck.report.slos import SloResult, budget_series, evaluate_slos

REQUESTS = "http_requests_total"
ERRORS = 'http_requests_total{status_code=~"5.."}'
BUCKETS = "http_request_duration_seconds_bucket"
MAX_POINTS = 240  # chart resolution; Prometheus caps a range query at 11000 points


@dataclass
class AlertRow:
    alertname: str
    severity: str
    labels: dict[str, str]
    first_seen: float
    last_seen: float
    firing_s: float
    source: str  # "prometheus" (ALERTS history) and/or "alertmanager" (active now)
    active_now: bool = False
    intervals: list[tuple[float, float]] = field(default_factory=list)  # firing (start, end)


@dataclass
class ReportData:
    prometheus_url: str
    alertmanager_url: str | None
    start: float
    end: float
    window: str
    scrape_interval_s: float
    has_data: bool = True
    total_requests: float | None = None
    error_ratio: float | None = None
    p95_latency_s: float | None = None
    slos: list[SloResult] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)
    alerts: list[AlertRow] = field(default_factory=list)
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # chart/GX data
    counters: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # raw counter samples
    # {series, timestamp, gap_seconds, gap_intervals}: gap_intervals in the job's own scrape intervals
    gaps: list[dict[str, Any]] = field(default_factory=list)
    job_intervals: dict[str, float] = field(default_factory=dict)  # job -> scrape interval (s)
    budget_series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # SLO id -> % left
    versions: dict[str, str] = field(default_factory=dict)  # "prometheus"/"alertmanager" -> version
    notes: list[str] = field(default_factory=list)


def _rate_window(step: float, scrape: float) -> str:
    # Like Grafana's $__rate_interval: at least four scrapes, at least one step.
    return format_duration(max(step + scrape, 4 * scrape))


def collect(prom: Prometheus, am: Alertmanager | None, service_url: str | None, since_s: float,
            end: float, repo: Path, service_auth: httpauth.HttpAuth | None = None) -> ReportData:
    window = format_duration(since_s)
    start = end - since_s
    scrape, job_intervals = prom.scrape_intervals()
    data = ReportData(prom.base, am.base if am else None, start, end, window, scrape)
    data.job_intervals = job_intervals
    for name, api in (("prometheus", prom), ("alertmanager", am)):
        version = api.version() if api is not None else None
        if version:
            data.versions[name] = version

    present = prom.query(f"count(count_over_time({REQUESTS}[{window}]))", end)
    if not present:
        data.has_data = False
        data.notes.append(f"Prometheus at {prom.base} has no {REQUESTS} samples in the last {window}: "
                          "nothing to report on (is the service scraped, and is this the right Prometheus?)")
    else:
        data.total_requests = prom.scalar(f"sum(increase({REQUESTS}[{window}]))", end)
        # One ratio over all series; `or vector(0)`: no 5xx series at all means no errors.
        data.error_ratio = prom.scalar(
            f"(sum(increase({ERRORS}[{window}])) or vector(0)) / sum(increase({REQUESTS}[{window}]))", end)
        data.p95_latency_s = prom.scalar(
            f"histogram_quantile(0.95, sum by (le) (increase({BUCKETS}[{window}])))", end)
        _collect_series(prom, data)
        data.slos = evaluate_slos(prom, repo, window, end, data.notes)
        data.budget_series = budget_series(prom, repo, data.start, data.end, _step(data), data.notes)
    _collect_gaps(prom, data)
    _collect_alerts(prom, am, data)
    data.health = fetch_health(service_url, service_auth)
    return data


def _step(data: ReportData) -> float:
    return max(data.scrape_interval_s, (data.end - data.start) / MAX_POINTS)


def intervals(times: list[float], step: float) -> list[tuple[float, float]]:
    """Runs of sample times no more than 1.5 steps apart, as (first, last + step) intervals."""
    out: list[tuple[float, float]] = []
    for t in times:
        if out and t - out[-1][1] <= 0.5 * step + 1e-9:
            out[-1] = (out[-1][0], t + step)
        else:
            out.append((t, t + step))
    return out


def _collect_series(prom: Prometheus, data: ReportData) -> None:
    step = _step(data)
    rw = _rate_window(step, data.scrape_interval_s)
    queries = {
        "request_rate": f"sum(rate({REQUESTS}[{rw}]))",
        "error_ratio": f"(sum(rate({ERRORS}[{rw}])) or vector(0)) / sum(rate({REQUESTS}[{rw}]))",
        "p50": f"histogram_quantile(0.50, sum by (le) (rate({BUCKETS}[{rw}])))",
        "p95": f"histogram_quantile(0.95, sum by (le) (rate({BUCKETS}[{rw}])))",
        "p99": f"histogram_quantile(0.99, sum by (le) (rate({BUCKETS}[{rw}])))",
    }
    for name, expr in queries.items():
        result = prom.query_range(expr, data.start, data.end, step)
        data.series[name] = result[0]["values"] if result else []
    for s in prom.samples(REQUESTS, data.window, data.end):
        key = ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items()) if k != "__name__")
        data.counters[key] = s["values"]


def _collect_gaps(prom: Prometheus, data: ReportData) -> None:
    """Intervals between consecutive samples of every ``up`` series (one row per interval)."""
    for s in prom.samples("up", data.window, data.end):
        job = s["metric"].get("job")
        name = f"{job}/{s['metric'].get('instance')}"
        interval = data.job_intervals.get(str(job)) or data.scrape_interval_s
        times = [t for t, _ in s["values"]]
        for a, b in pairwise(times):
            data.gaps.append({"series": name, "timestamp": b, "gap_seconds": b - a,
                              "gap_intervals": (b - a) / interval})


def _collect_alerts(prom: Prometheus, am: Alertmanager | None, data: ReportData) -> None:
    """Every alert that fired: Prometheus' ALERTS history plus Alertmanager's current alerts."""
    step = max(data.scrape_interval_s, (data.end - data.start) / 10000)
    rows: dict[tuple, AlertRow] = {}
    for s in prom.query_range('ALERTS{alertstate="firing"}', data.start, data.end, step):
        labels = {k: v for k, v in s["metric"].items() if k not in ("__name__", "alertstate")}
        times = [t for t, v in s["values"] if not math.isnan(v)]
        if not times:
            continue
        key = tuple(sorted(labels.items()))
        rows[key] = AlertRow(labels.get("alertname", "?"), labels.get("severity", ""), labels,
                             times[0], times[-1], len(times) * step, "prometheus",
                             intervals=[(a, min(b, data.end)) for a, b in intervals(times, step)])
    if am is not None:
        try:
            current = am.alerts()
        except ApiError as e:
            data.notes.append(f"Alertmanager alerts unavailable: {e}")
            current = []
        for a in current:
            labels = {k: v for k, v in (a.get("labels") or {}).items()}
            # Alertmanager's copy carries Prometheus' external labels too: match on a subset.
            match = [r for r in rows.values()
                     if r.labels.items() <= labels.items() or labels.items() <= r.labels.items()]
            for r in match:
                r.source, r.active_now = "prometheus, alertmanager", True
            if not match:
                since = _iso_seconds(a.get("startsAt"), data.end)
                rows[tuple(sorted(labels.items()))] = AlertRow(
                    labels.get("alertname", "?"), labels.get("severity", ""), labels,
                    since, data.end, data.end - since, "alertmanager", active_now=True,
                    intervals=[(max(since, data.start), data.end)])
    data.alerts = sorted(rows.values(), key=lambda r: (r.first_seen, r.alertname))


def fetch_health(service_url: str | None, auth: httpauth.HttpAuth | None = None) -> dict[str, Any]:
    if not service_url:
        return {"status": "unknown", "detail": "no service URL given"}
    url = service_url.rstrip("/") + "/health"
    try:
        r = httpauth.session(auth).get(url, timeout=5)
    except httpauth.AuthError as e:
        return {"status": "unreachable", "url": url, "detail": str(e)}
    except requests.RequestException as e:
        return {"status": "unreachable", "url": url, "detail": httpauth.describe_failure(e)}
    denied = httpauth.rejected(r.status_code, auth)
    if denied:
        return {"status": "unreachable", "url": url, "http": r.status_code, "detail": denied}
    try:
        body = r.json()
    except ValueError:
        return {"status": "invalid", "url": url, "http": r.status_code, "detail": r.text[:100]}
    checks = body.get("checks") if isinstance(body, dict) else None
    components = {k: (v or {}).get("status", "?") for k, v in checks.items()} if isinstance(checks, dict) else {}
    return {"status": body.get("status", "?") if isinstance(body, dict) else "?", "url": url,
            "http": r.status_code, "components": components}


def _iso_seconds(text: Any, default: float) -> float:
    """Unix seconds of an RFC 3339 time from Alertmanager (``default`` when unreadable)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return default
