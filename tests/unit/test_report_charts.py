"""The data behind each chart of the daily report (golden file), and the PNGs drawn from it.

Refresh the golden file after an intended change with ``MONCHECK_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from moncheck.report import chartdata, charts
from moncheck.report.collect import AlertRow, ReportData, intervals
from moncheck.report.slos import SloResult

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests/fixtures/report/charts.golden.json"
END = 1_764_547_200.0  # 2025-12-01 00:00 UTC
DAY = 86_400.0
STEP = DAY / 240


def young_stack() -> ReportData:
    """A 24 h report of a stack that has existed for the last 20 minutes: sparse series."""
    d = ReportData("http://127.0.0.1:9090", "http://127.0.0.1:9093", END - DAY, END, "24h", 15.0)
    ts = [END - 3 * STEP, END - 2 * STEP, END - STEP]
    d.series = {"request_rate": [(t, 20.0) for t in ts], "error_ratio": [(ts[0], 0.0), (ts[1], 0.02), (ts[2], 0.3)],
                "p50": [(t, 0.05) for t in ts], "p95": [(t, 0.2) for t in ts], "p99": [(ts[-1], 1.4)]}
    d.alerts = [
        AlertRow("HighResponseTime", "warning", {}, ts[1], ts[2], STEP, "prometheus", intervals=[(ts[1], ts[2])]),
        AlertRow("HighErrorRate", "critical", {}, ts[0], END, 2 * STEP, "prometheus, alertmanager", True,
                 intervals=[(ts[0], ts[1]), (ts[2], END)]),
    ]
    d.slos = [SloResult("gocarbon-api-requests-availability", 99.9, 90.0, 0.1, "x")]
    d.budget_series = {"gocarbon-api-requests-availability": [(ts[0], 100.0), (ts[1], 40.0), (ts[2], -250.0)]}
    return d


FIXED = chartdata.Thresholds(
    error_budgets=[("gocarbon-api-requests-availability", 0.1)],
    latency_targets=[("gocarbon-api-requests-latency", 1.0)],
    alerts={"error-ratio": [("HighErrorRate", 5.0)], "latency": [("HighResponseTime", 1.0)]})


@pytest.fixture(scope="module")
def built() -> list[chartdata.Chart]:
    return chartdata.build(young_stack(), FIXED)


def test_thresholds_of_this_repository() -> None:
    assert chartdata.thresholds(REPO) == FIXED


def test_chart_data_matches_the_golden_file(built: list[chartdata.Chart]) -> None:
    got = json.loads(json.dumps([c.as_dict() for c in built]))
    if os.environ.get("MONCHECK_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(GOLDEN.read_text())


def test_every_chart_spans_exactly_the_period_and_names_it(built: list[chartdata.Chart]) -> None:
    assert [c.file for c in built] == ["request-rate.png", "error-ratio.png", "latency.png", "alerts.png",
                                       "budget-gocarbon-api-requests-availability.png"]
    for c in built:
        assert c.xlim == (END - DAY, END) and c.title.endswith(", last 24 h"), c.title
    assert chartdata.period_text("1h30m") == "last 1 h 30 m"


def test_sparse_series_have_markers_and_ratios_are_percent(built: list[chartdata.Chart]) -> None:
    rate, ratio = built[0], built[1]
    assert rate.lines[0].markers and rate.ymin == 0.0
    assert ratio.ylabel == "% of requests"
    assert [v for _, v in ratio.lines[0].points] == [0.0, 2.0, 30.0]


def test_reference_lines_are_drawn_from_the_thresholds(built: list[chartdata.Chart]) -> None:
    ratio, lat = built[1], built[2]
    assert [(r.label, r.value, r.kind) for r in ratio.refs] == [
        ("error budget of gocarbon-api-requests-availability (0.1%)", 0.1, "budget"),
        ("HighErrorRate fires above 5%", 5.0, "threshold")]
    assert [(r.label, r.value, r.kind) for r in lat.refs] == [
        ("latency target of gocarbon-api-requests-latency (1 s)", 1.0, "target"),
        ("HighResponseTime fires above 1 s", 1.0, "threshold")]


def test_alert_timeline_has_each_firing_interval_by_severity(built: list[chartdata.Chart]) -> None:
    bars = [(b.row, b.start, b.end) for b in built[3].bars]
    ts = [END - 3 * STEP, END - 2 * STEP, END - STEP]
    assert bars == [("HighErrorRate (critical)", ts[0], ts[1]), ("HighErrorRate (critical)", ts[2], END),
                    ("HighResponseTime (warning)", ts[1], ts[2])]


def test_burn_down_keeps_a_readable_scale_and_says_the_lowest_value(built: list[chartdata.Chart]) -> None:
    burn = built[4]
    assert burn.title == "Error budget remaining, gocarbon-api-requests-availability (99.9% objective), last 24 h"
    assert burn.lines[0].label == "budget remaining (lowest -250%, below the chart)"
    assert (burn.ymin, burn.ymax) == (-100.0, 105.0)


def test_alert_intervals_from_sample_times() -> None:
    assert intervals([0, 10, 20, 50, 60], 10) == [(0, 30), (50, 70)]
    assert intervals([], 10) == []


def test_every_chart_draws_a_png_also_without_data(built: list[chartdata.Chart], tmp_path: Path) -> None:
    empty = ReportData("p", None, END - 3600, END, "1h", 15.0)
    specs = built + chartdata.build(empty, chartdata.Thresholds())
    names = charts.render(specs[:5], tmp_path / "a") + charts.render(specs[5:], tmp_path / "b")
    assert len(names) == 9
    for p in [*(tmp_path / "a").iterdir(), *(tmp_path / "b").iterdir()]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [c.note for c in specs[5:]] == ["no requests in the period"] * 3 + ["no alert fired in the period"]
