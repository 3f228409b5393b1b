"""The daily report: suite loading, Great Expectations verdicts, rendering, and an empty Prometheus."""

import math
import subprocess
import time
from pathlib import Path

import pytest
import requests

from helpers import stop
from moncheck import toolchain
from moncheck.promapi import format_duration, parse_duration
from moncheck.report import build as build_mod
from moncheck.report.collect import ReportData
from moncheck.report.expectations import SUITE_FILE, SuiteError, load_suites, validate
from moncheck.stack.procs import free_port

REPO = Path(__file__).resolve().parents[2]


def _data(**series) -> ReportData:
    d = ReportData("http://p", None, 0.0, 600.0, "10m", 15.0)
    d.series = {k: [(float(i * 15), v) for i, v in enumerate(vals)] for k, vals in series.items()}
    return d


@pytest.mark.parametrize("text, seconds", [("24h", 86400), ("1h30m", 5400), ("90s", 90)], ids=str)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds and parse_duration(format_duration(seconds)) == seconds


def test_parse_duration_rejects_garbage():
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration("yesterday")


def test_repository_suite_loads():
    suites, params = load_suites(REPO / SUITE_FILE)
    assert {s.dataset for s in suites} == {"series", "counters", "scrapes"}
    assert params["max_gap_scrape_intervals"] > 1


@pytest.mark.parametrize("text, msg", [
    ("suites: 3\n", "daily.yml:1: expected a mapping with a `suites` list"),
    ("suites:\n  - {name: a}\n", "daily.yml:2: each suite needs"),
    ("suites:\n  - name: a\n    dataset: series\n    expectations:\n      - {type: x}\n",
     "daily.yml:5: an expectation needs"),
], ids=["not-list", "no-dataset", "no-kwargs"])
def test_bad_suite_names_file_and_line(tmp_path, text, msg):
    p = tmp_path / "daily.yml"
    p.write_text(text)
    with pytest.raises(SuiteError, match=msg.replace("`", ".")):
        load_suites(p, "daily.yml")


def test_unknown_expectation_type_names_line(tmp_path):
    p = tmp_path / "daily.yml"
    p.write_text("suites:\n  - name: a\n    dataset: series\n    expectations:\n"
                 "      - {type: expect_nonsense, kwargs: {column: p95}}\n")
    suites, _ = load_suites(p, "daily.yml")
    with pytest.raises(SuiteError, match="daily.yml:5: invalid expectation expect_nonsense"):
        validate(suites, build_mod.frames(_data(p95=[0.1])), {}, "daily.yml")


def _failed(data: ReportData, params=None) -> list[str]:
    suites, _ = load_suites(REPO / SUITE_FILE)
    outcomes = validate(suites, build_mod.frames(data), params or {"max_gap_scrape_intervals": 2.5, "max_gap_seconds": 37.5})
    return sorted(f"{o.suite}:{o.column}" for o in outcomes if not o.success)


def test_good_data_passes():
    d = _data(request_rate=[1, 2, 3], error_ratio=[0, 0.1, math.nan], p50=[0.1] * 3, p95=[0.2] * 3, p99=[0.3] * 3)
    d.counters = {"a": [(0, 1), (15, 5), (30, 9)]}
    d.gaps = [{"series": "api", "timestamp": 15, "gap_seconds": 15}]
    assert _failed(d) == []


def test_a_gap_is_judged_against_its_own_jobs_interval():
    # The local stack scrapes Prometheus itself every 1s while the global interval is 250ms: a 1s
    # gap there is one scrape interval of that job, not four of the global one.
    d = _data(request_rate=[1], error_ratio=[0.1], p50=[0.1], p95=[0.2], p99=[0.3])
    d.scrape_interval_s = 0.25
    d.gaps = [{"series": "prometheus/localhost:9090", "timestamp": 1, "gap_seconds": 1.0, "gap_intervals": 1.0}]
    assert _failed(d) == []
    d.gaps = [{"series": "api", "timestamp": 1, "gap_seconds": 1.0}]  # no job interval: the global one
    assert _failed(d) == ["report-scrapes:gap_intervals"]


@pytest.mark.parametrize("mutate, want", [
    (lambda d: d.series.update(error_ratio=[(0, 1.5)]), "report-series:error_ratio"),
    (lambda d: d.series.update(p95=[(0, -0.1)]), "report-series:p95"),
    (lambda d: setattr(d, "counters", {"a": [(0, 9), (15, 3), (30, 1)]}), "report-counters:delta"),
    (lambda d: setattr(d, "gaps", [{"series": "api", "timestamp": 90, "gap_seconds": 90}]),
     "report-scrapes:gap_intervals"),
], ids=["ratio-above-1", "negative-latency", "counter-decreases", "scrape-gap"])
def test_bad_data_fails_its_expectation(mutate, want):
    d = _data(request_rate=[1], error_ratio=[0.1], p50=[0.1], p95=[0.2], p99=[0.3])
    mutate(d)
    assert _failed(d) == [want]


@pytest.fixture
def empty_prometheus(tmp_path):
    """A real Prometheus that scrapes nothing: the report must say 'no data', not crash."""
    exe = toolchain.find("prometheus")
    if not exe:
        pytest.skip("prometheus not installed")
    # A job on the discard port: it yields only `up` == 0, never a request sample.
    (tmp_path / "p.yml").write_text("global: {scrape_interval: 15s}\n"
                                    "scrape_configs:\n"
                                    "  - {job_name: slow, scrape_interval: 1m, static_configs: [{targets: ['127.0.0.1:9']}]}\n"
                                    "  - {job_name: default, static_configs: [{targets: ['127.0.0.1:9']}]}\n")
    port = free_port()
    proc = subprocess.Popen([exe, f"--config.file={tmp_path / 'p.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        yield url
    finally:
        stop(proc)


def test_empty_prometheus_reports_no_data(empty_prometheus, tmp_path, capsys):
    from moncheck.cli import main

    out = tmp_path / "report"
    rc = main(["report", "--prometheus", empty_prometheus, "--repo", str(REPO), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "NO DATA" in err and "http_requests_total" in err
    md = (out / "report.md").read_text()
    assert md.splitlines()[2].startswith("> **NO DATA.**")
    assert not list(out.glob("*.png"))


def test_scrape_intervals_per_job_from_the_live_config(empty_prometheus):
    from moncheck.promapi import Prometheus

    assert Prometheus(empty_prometheus).scrape_intervals() == (15.0, {"slow": 60.0, "default": 15.0})


def test_unreachable_prometheus_is_a_usage_error(tmp_path, capsys):
    from moncheck.cli import main

    rc = main(["report", "--prometheus", "http://127.0.0.1:9", "--repo", str(REPO), "--out", str(tmp_path)])
    assert rc == 2
    assert capsys.readouterr().err.startswith("moncheck: error: Prometheus at http://127.0.0.1:9")


def test_bad_since_is_a_usage_error(capsys):
    from moncheck.cli import main

    assert main(["report", "--since", "yesterday", "--prometheus", "http://127.0.0.1:9"]) == 2
    assert "--since" in capsys.readouterr().err
