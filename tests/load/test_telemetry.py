"""Drills across errors, traces and logs on the session's local stack (``pytest -m load``).

The stack's service runs sentry-sdk and the OpenTelemetry SDK against the stack's telemetry
receiver, with the repository's own policies (tracing ratio 0.1). A drill that needs its request's
trace kept sends a sampled W3C ``traceparent`` (as an upstream or the browser would); the
parent-based sampler honours it. Each drill tags its requests with ``X-Request-Id`` so it only
looks at what it caused. The module runs its own stack (``telemetry_stack``): the errors and slow
requests it causes must not reach the fire drills' healthy baseline.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from moncheck.telemetry.spec import load_errors, load_tracing
from telemetry_stack import own_stack_fixture  # noqa: F401 - the module's own stack
from telemetry_stack import wait_up

REPO = Path(__file__).resolve().parents[2]
TRACING = load_tracing(REPO / "monitoring/tracing/tracing.yml")
ERRORS = load_errors(REPO / "monitoring/errors/errors.yml")
SHARE_REQUESTS = 400  # binomial sd at 0.1 is 0.015: the 0.05 tolerance is 3.3 sd

pytestmark = pytest.mark.load


def _traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def _until(fn: Any, timeout: float = 15.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(every)


class Telemetry:
    """The stack's receiver and the service's log, read the way an on-call engineer would."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.url = stack.telemetry_url

    def events(self, request_id: str) -> list[dict[str, Any]]:
        return [e for e in requests.get(self.url + "/events", timeout=5).json() if e.get("request_id") == request_id]

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        return requests.get(f"{self.url}/traces/{trace_id}", timeout=5).json()

    def spans(self) -> list[dict[str, Any]]:
        return requests.get(self.url + "/spans", timeout=10).json()

    def log_lines(self, request_id: str) -> list[dict[str, Any]]:
        out = []
        text = (self.stack.dir / "logs" / "service.log").read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if line.startswith("{") and f'"{request_id}"' in line:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line still being written
        return [x for x in out if x.get("request_id") == request_id]

    def fault(self, **body: Any) -> None:
        requests.post(self.stack.control_url + "/faults", json=body, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        requests.delete(self.stack.control_url + "/faults", timeout=5)


@pytest.fixture(scope="module")
def tel(own_stack: Any) -> Any:
    return Telemetry(own_stack)


def test_unhandled_error_reaches_tracking_traces_and_the_error_log(tel: Telemetry) -> None:
    trace_id, parent = _traceparent()
    tel.fault(exception_ratio=1, routes=["/api/targets"])
    try:
        r = requests.get(tel.stack.service_url + "/api/targets", timeout=10,
                         headers={"X-Request-Id": "drill-unhandled", "traceparent": parent})
    finally:
        tel.clear_faults()
    assert r.status_code == 500
    events = _until(lambda: tel.events("drill-unhandled"))
    time.sleep(1.0)  # a second event would arrive within the SDK's flush: it must not
    events = tel.events("drill-unhandled")
    assert len(events) == 1, events
    ev = events[0]
    assert (ev["environment"], ev["release"], ev["trace_id"], ev["exception_types"], ev["handled"]) == (
        "local", "moncheck-local", trace_id, ["InjectedError"], False)
    lines = _until(lambda: [x for x in tel.log_lines("drill-unhandled") if x["message"] == "HTTP Request"] and
                   tel.log_lines("drill-unhandled"))
    assert [(x["level"], x["message"], x["trace_id"]) for x in lines] == [
        ("error", "Unhandled error", trace_id), ("error", "HTTP Request", trace_id)]
    assert lines[0]["sentry_event_id"] == ev["event_id"]
    spans = _until(lambda: tel.trace(trace_id))
    assert [(s["name"], s["status"], s["span_id"]) for s in spans] == [("GET /api/targets", "error", ev["span_id"])]


def test_validation_error_is_dropped_by_the_filter_and_logged_at_warn(tel: Telemetry) -> None:
    trace_id, parent = _traceparent()
    r = requests.post(tel.stack.service_url + "/api/emissions", json={"kg_co2e": -1}, timeout=10,
                      headers={"X-Request-Id": "drill-invalid", "traceparent": parent})
    assert r.status_code == 400
    assert _until(lambda: tel.trace(trace_id)), "the request's span never arrived: the pipeline is down"
    time.sleep(1.0)  # the event, if the filter failed, is sent with the span's batch or sooner
    assert tel.events("drill-invalid") == []
    lines = tel.log_lines("drill-invalid")
    assert [(x["level"], x["message"], x["trace_id"]) for x in lines] == [
        ("warn", "Validation error", trace_id), ("warn", "HTTP Request", trace_id)]


def test_development_environment_sends_nothing(tel: Telemetry, tmp_path: Path) -> None:
    from moncheck.stack.procs import free_port
    from moncheck.stack.telemetry import service_env
    port, control = free_port(), free_port()
    # A second service of the same repository, same DSN and OTLP endpoint, environment development.
    proc = subprocess.Popen(
        [sys.executable, "-m", "moncheck.service", "--port", str(port), "--control-port", str(control),
         "--catalog", str(tel.stack.repo / "monitoring/catalog/metrics.yml"), "--uptime-interval", "0",
         "--environment", "development", "--log-file", str(tmp_path / "dev.log")],
        env={"PATH": "/usr/bin:/bin", **service_env(tel.url)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(f"http://127.0.0.1:{port}/health", proc)
    try:
        requests.post(f"http://127.0.0.1:{control}/faults", json={"exception_ratio": 1}, timeout=5).raise_for_status()
        for i in range(3):
            r = requests.get(f"http://127.0.0.1:{port}/api/targets", headers={"X-Request-Id": f"drill-dev-{i}"}, timeout=10)
            assert r.status_code == 500
    finally:
        proc.terminate()
        assert proc.wait(15) == 0  # a clean stop flushes the SDK: anything queued is sent now
    time.sleep(0.5)
    assert [e for i in range(3) for e in tel.events(f"drill-dev-{i}")] == []
    assert ERRORS.sends("local") and not ERRORS.sends("development")


def test_request_spans_carry_the_required_attributes(tel: Telemetry) -> None:
    trace_id, parent = _traceparent()
    requests.get(tel.stack.service_url + "/api/companies/1", headers={"traceparent": parent}, timeout=10)
    [span] = _until(lambda: tel.trace(trace_id))
    assert span["kind"] == "server" and span["attributes"]["http.route"] == "/api/companies/:id"
    server = [s for s in tel.spans() if s["kind"] == "server"]
    missing = [(s["name"], sorted(set(TRACING.required_attributes) - set(s["attributes"])))
               for s in server if not set(TRACING.required_attributes) <= set(s["attributes"])]
    assert server and not missing, missing[:5]
    for attr in TRACING.resource_attributes:
        assert attr in span["resource"], (attr, span["resource"])


def test_exemplar_leads_to_a_trace_whose_duration_matches_its_bucket(tel: Telemetry) -> None:
    prom = tel.stack.prometheus_url
    trace_id, parent = _traceparent()
    tel.fault(latency_ms=1500, routes=["/api/reports"])
    try:
        start = time.time()
        r = requests.get(tel.stack.service_url + "/api/reports", headers={"traceparent": parent}, timeout=30)
    finally:
        tel.clear_faults()
    assert r.status_code == 200
    # The dashboard's own exemplar query (dashboards/exemplar checks it asks for exemplars).
    dash = json.loads((REPO / TRACING.exemplar_panels[0][0]).read_text())
    panel = next(p for p in dash["panels"] if p["title"] == TRACING.exemplar_panels[0][1])
    expr = next(t["expr"] for t in panel["targets"] if t.get("exemplar")).replace("$job", ".+")

    def exemplar() -> Any:
        data = requests.get(prom + "/api/v1/query_exemplars", timeout=5,
                            params={"query": expr, "start": start - 5, "end": time.time() + 5}).json()["data"]
        return next(((s["seriesLabels"], e) for s in data for e in s["exemplars"]
                     if e["labels"].get(TRACING.exemplar_label) == trace_id), None)

    found = _until(exemplar, timeout=20)
    assert found, f"no exemplar with trace_id {trace_id} for the panel query {expr}"
    series, ex = found
    value, le = float(ex["value"]), float(series["le"])
    buckets = [b for b in [0.1, 0.3, 0.5, 0.7, 1, 3, 5, 7, 10] if b < le]
    lower = max(buckets) if buckets else 0.0
    assert lower < value <= le, (value, series)
    [span] = _until(lambda: tel.trace(trace_id))
    assert lower < span["duration_s"] <= le, (span["duration_s"], series)
    assert abs(span["duration_s"] - value) < 0.05, (span["duration_s"], value)


def test_sampled_share_stays_within_its_bound(tel: Telemetry) -> None:
    ids = [f"drill-share-{secrets.token_hex(4)}-{i}" for i in range(SHARE_REQUESTS)]
    with requests.Session() as http:
        for rid in ids:
            http.get(tel.stack.service_url + "/api/emission-factors", headers={"X-Request-Id": rid}, timeout=10)
    wanted = set(ids)
    time.sleep(1.5)  # two export intervals
    kept = {s["attributes"].get("request.id") for s in tel.spans()} & wanted
    share = len(kept) / len(ids)
    assert abs(share - TRACING.ratio) <= TRACING.tolerance, (share, TRACING.ratio, TRACING.tolerance)
    dropped = next(rid for rid in ids if rid not in kept)
    [line] = tel.log_lines(dropped)  # a trace not kept still has its ids in the log line
    assert len(line["trace_id"]) == 32 and len(line["span_id"]) == 16, line
