"""The daily report against a real local stack after traffic and an injected fault."""

import math
import time
from pathlib import Path

import pytest
import requests

from moncheck.report.build import build
from moncheck.report.traffic import drive
from moncheck.stack.fixtures import running_stack

REPO = Path(__file__).resolve().parents[2]


def exercise(service_url: str, control_url: str, prometheus_url: str, alertmanager_url: str, out: Path):
    """Traffic with 30% errors long enough for HighErrorRate to fire, then a report of that period.

    The report covers the fault's period only, not the default hour.
    """
    start = time.time()
    requests.post(control_url + "/faults", json={"error_ratio": 0.3}, timeout=5).raise_for_status()
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            drive(service_url, 3, rps=20)
            firing = requests.get(prometheus_url + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
            if any(a["state"] == "firing" for a in firing):
                break
    finally:
        requests.delete(control_url + "/faults", timeout=5)
    period = max(10, math.ceil(time.time() - start) + 2)
    return build(REPO, prometheus_url, alertmanager_url, service_url, period, out)


@pytest.fixture
def own_stack(request):
    """A stack of its own: the fault it injects keeps the SLO burn alerts of a shared stack firing
    for minutes, which smoke's "no critical alert firing" would then see."""
    yield from running_stack(request.config)


def test_report_after_traffic_and_fault(own_stack, tmp_path):
    stack = own_stack
    result = exercise(stack.service_url, stack.control_url, stack.prometheus_url, stack.alertmanager_url, tmp_path)
    d = result.data
    assert d.has_data and d.total_requests and d.total_requests > 50
    assert 0.05 < d.error_ratio < 0.5  # ~30% of the API traffic, one aggregated ratio
    assert d.p95_latency_s is not None and d.p95_latency_s >= 0
    assert d.alerts, "an alert should have fired under 30% errors"
    assert d.health["status"] == "healthy"
    assert result.ok, [o.text() for o in result.failed]
    assert {"report.md", "report.json", "request-rate.png", "error-ratio.png", "latency.png"} <= {
        p.name for p in tmp_path.iterdir()}
    md = (tmp_path / "report.md").read_text()
    assert "| Total requests |" in md and d.alerts[0].alertname in md
