"""Build the daily health report: collect, validate with Great Expectations, render, write."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from moncheck import atomic, httpauth
from moncheck.promapi import Alertmanager, Prometheus
from moncheck.report import chartdata, charts, markdown
from moncheck.report.collect import ReportData, collect
from moncheck.report.expectations import SUITE_FILE, Outcome, load_suites, validate

REPORT_MD = "report.md"


@dataclass
class BuildResult:
    data: ReportData
    outcomes: list[Outcome]
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per build phase

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def ok(self) -> bool:
        return self.data.has_data and not self.failed


def frames(data: ReportData) -> dict[str, Any]:
    """The data sets the expectation suites run against (pandas DataFrames)."""
    import pandas as pd

    cols = ["request_rate", "error_ratio", "p50", "p95", "p99"]
    by_t: dict[float, dict[str, float]] = {}
    for name in cols:
        for t, v in data.series.get(name, []):
            by_t.setdefault(t, {})[name] = v
    series = pd.DataFrame([{"timestamp": t, **row} for t, row in sorted(by_t.items())],
                          columns=["timestamp", *cols], dtype="float64")
    pairs = [{"series": key, "timestamp": b[0], "delta": b[1] - a[1]}
             for key, values in data.counters.items() for a, b in pairwise(values)]
    counters = pd.DataFrame(pairs, columns=["series", "timestamp", "delta"])
    gaps = [{"gap_intervals": g["gap_seconds"] / data.scrape_interval_s, **g} for g in data.gaps]
    scrapes = pd.DataFrame(gaps, columns=["series", "timestamp", "gap_seconds", "gap_intervals"])
    return {"series": series, "counters": counters.astype({"timestamp": "float64", "delta": "float64"}),
            "scrapes": scrapes.astype({"timestamp": "float64", "gap_seconds": "float64",
                                       "gap_intervals": "float64"})}


def build(repo: Path, prometheus_url: str, alertmanager_url: str | None, service_url: str | None,
          since_s: float, out: Path, end: float | None = None,
          auth: Mapping[str, httpauth.HttpAuth] | None = None) -> BuildResult:
    """Collect, validate and write ``report.md``, ``report.json`` and charts into ``out``.
    ``auth``: target name (``prometheus``, ``alertmanager``, ``service``) -> credentials.

    Raises ``promapi.ApiError`` when Prometheus cannot be queried, ``SuiteError`` for a bad suite.
    """
    started = time.monotonic()
    suites, params = load_suites(repo / SUITE_FILE)  # a broken suite fails before any query
    end = time.time() if end is None else end
    auth = auth or {}
    prom = Prometheus(prometheus_url, auth=auth.get("prometheus"))
    am = Alertmanager(alertmanager_url, auth=auth.get("alertmanager")) if alertmanager_url else None
    phases = {"load suites": time.monotonic() - started}
    mark = time.monotonic()
    data = collect(prom, am, service_url, since_s, end, repo, auth.get("service"))
    phases["queries"], mark = time.monotonic() - mark, time.monotonic()
    outcomes: list[Outcome] = []
    if data.has_data:
        intervals = params.get("max_gap_scrape_intervals", 2.5)
        parameters = {"max_gap_scrape_intervals": intervals,
                      "max_gap_seconds": data.scrape_interval_s * intervals}
        outcomes = validate(suites, frames(data), parameters)
    phases["expectations"], mark = time.monotonic() - mark, time.monotonic()
    specs = chartdata.build(data, chartdata.thresholds(repo)) if data.has_data else []
    written = charts.render(specs, out)
    if specs:  # the data behind each chart, for readers and golden tests
        atomic.write_text(out / "charts.json", json.dumps([c.as_dict() for c in specs], indent=1) + "\n")
    phases["charts"] = time.monotonic() - mark
    result = BuildResult(data, outcomes, written, phases={k: round(v, 3) for k, v in phases.items()})
    result.seconds = time.monotonic() - started
    atomic.write_text(out / "report.json", json.dumps(summary(result), indent=2) + "\n")
    # report.md last: its presence means the folder is complete.
    atomic.write_text(out / REPORT_MD, markdown.render(data, outcomes, specs, result.seconds))
    result.files = [*written, *(["charts.json"] if specs else []), "report.json", REPORT_MD]
    return result


def summary(result: BuildResult) -> dict[str, Any]:
    d = result.data
    return {
        "ok": result.ok,
        "has_data": d.has_data,
        "start": d.start, "end": d.end, "window": d.window,
        "versions": d.versions,
        "total_requests": d.total_requests,
        "error_ratio": d.error_ratio,
        "p95_latency_seconds": d.p95_latency_s,
        "health": d.health,
        "slos": [{"id": s.id, "objective": s.objective, "availability": s.availability, "met": s.met}
                 for s in d.slos],
        "alerts": [{"alertname": a.alertname, "severity": a.severity, "first_seen": a.first_seen,
                    "last_seen": a.last_seen, "active_now": a.active_now, "source": a.source}
                   for a in d.alerts],
        "failed_expectations": [o.text() for o in result.failed],
        "expectations": len(result.outcomes),
        "notes": d.notes,
        "build_seconds": round(result.seconds, 3),
        "build_phases": result.phases,
    }
