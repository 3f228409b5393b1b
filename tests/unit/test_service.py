"""The reference service, run as a real subprocess on free loopback ports."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from helpers import stop
from moncheck.service import catalog as catalog_mod
from moncheck.stack.procs import free_port

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "monitoring" / "catalog" / "metrics.yml"
HEALTH_SCHEMA = json.loads((ROOT / "policies" / "schemas" / "health.schema.json").read_text())
MEMORY_CAP_MB = 48


class Service:
    def __init__(self, tmp: Path, *extra: str) -> None:
        self.port, self.control = free_port(), free_port()
        self.log = tmp / "requests.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moncheck.service", "--host", "127.0.0.1", "--port", str(self.port),
             "--control-port", str(self.control), "--catalog", str(CATALOG), "--log-file", str(self.log),
             "--memory-cap-mb", str(MEMORY_CAP_MB), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.faults_url = f"http://127.0.0.1:{self.control}/faults"
        self.http = requests.Session()
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                self.http.get(self.url + "/health", timeout=1)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("service did not start within 15s") from None
                time.sleep(0.1)

    def stop(self) -> int:
        self.http.close()
        return stop(self.proc)

    def fault(self, **body: Any) -> requests.Response:
        return self.http.post(self.faults_url, json=body, timeout=5)

    def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        text = self.http.get(self.url + "/metrics", timeout=5).text
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples
        }

    def value(self, name: str, **labels: str) -> float:
        return self.samples().get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = Service(tmp_path_factory.mktemp("svc"), "--uptime-interval", "0.3")
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(autouse=True)
def _clear_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    if "svc" in request.fixturenames:
        service = request.getfixturevalue("svc")
        service.http.delete(service.faults_url, timeout=5)
        yield
        service.http.delete(service.faults_url, timeout=5)
    else:
        yield


def drive_everything(svc: Service) -> None:
    """One request to every route plus one of every analytics kind, so every metric has samples."""
    g = lambda p, **kw: svc.http.get(svc.url + p, timeout=5, **kw)  # noqa: E731
    p = lambda p, body, **kw: svc.http.post(svc.url + p, json=body, timeout=5, **kw)  # noqa: E731
    premium = {"X-User-Type": "premium", "X-User-Id": "user-42"}
    for path in ("/", "/dashboard", "/api/companies", "/api/companies/1", "/api/companies/7/emissions",
                 "/api/emission-factors", "/api/reports", "/api/reports/1/export", "/api/targets",
                 "/api/analytics/summary", "/api/settings", "/no/such/page"):
        g(path, headers=premium)
    assert p("/api/emissions", {"company_id": "7", "kg_co2e": 12.5}).status_code == 201
    assert p("/api/emissions/import", {"emissions": [{"company_id": "7", "kg_co2e": 1}]}).status_code == 201
    assert p("/api/reports", {"title": "Q3"}).status_code == 201
    assert p("/api/targets", {"company_id": "1", "reduction_percent": 40}).status_code == 200
    assert svc.http.put(svc.url + "/api/companies/1", json={"name": "Acme"}, timeout=5).status_code == 200
    assert svc.http.delete(svc.url + "/api/emissions/999999", timeout=5).status_code == 404
    assert p("/api/auth/login", {}).status_code == 200
    assert p("/api/auth/logout", {"session_seconds": 1200}, headers=premium).status_code == 200
    assert p("/api/analytics/web-vitals", {"metric": "LCP", "value": 2300, "rating": "needs-improvement",
                                           "page": "/companies/123", "timestamp": 1}).status_code == 202
    assert p("/api/analytics/page-performance", {"page": "dashboard", "domContentLoaded": 120,
                                                 "loadComplete": 40, "firstByte": 80}).status_code == 202
    assert p("/api/analytics/slow-render", {"componentId": "EmissionsChart", "phase": "update",
                                            "actualDuration": 75, "baseDuration": 60}).status_code == 202
    assert p("/api/logs", {"logs": [{"level": "error", "message": "boom", "timestamp": 1,
                                     "url": "https://gocarbontracker.com/dashboard", "userId": "u1"}]}
             ).status_code == 202
    assert svc.fault(db_failures=True).status_code == 200
    assert g("/api/reports").status_code == 500
    svc.http.delete(svc.faults_url, timeout=5)
    time.sleep(1)  # at least one uptime round


def exposed_name(family: Any) -> str:
    # The parser strips `_total` from counter families; the catalog lists exposed names.
    return family.name + "_total" if family.type == "counter" else family.name


def test_metrics_are_exactly_the_catalog(svc: Service) -> None:
    drive_everything(svc)
    specs = {s.name: s for s in catalog_mod.load(CATALOG) if s.source in ("service", "process")}
    text = svc.http.get(svc.url + "/metrics", timeout=5).text
    families = {exposed_name(f): f for f in text_string_to_metric_families(text)}
    assert not set(families) - set(specs), "exposed but not cataloged"
    assert not set(specs) - set(families), "cataloged but not exposed"
    for name, spec in specs.items():
        fam = families[name]
        assert fam.type == spec.type, name
        assert fam.samples, f"{name} has no samples after a full traffic mix"
        for sample in fam.samples:
            labels = dict(sample.labels)
            labels.pop("le" if sample.name.endswith("_bucket") else "", None)
            assert set(labels) == set(spec.labels), f"{sample.name}{labels}"
            for key, value in labels.items():
                assert spec.labels[key].accepts(value), f"{sample.name}: {key}={value!r} not in catalog"
            assert "user_id" not in sample.labels
    for bucket_name in ("http_request_duration_seconds", "database_query_duration_seconds"):
        les = {float(s.labels["le"]) for s in families[bucket_name].samples if s.name.endswith("_bucket")}
        assert les == set(specs[bucket_name].buckets or ()) | {float("inf")}


def test_routes_are_labelled_by_template(svc: Service) -> None:
    for cid in ("123", "456", "abc"):
        assert svc.http.get(f"{svc.url}/api/companies/{cid}/emissions", timeout=5).status_code == 200
    assert svc.http.get(svc.url + "/wp-login.php?x=1", timeout=5).status_code == 404
    routes = {dict(k[1]).get("route") for k in svc.samples() if k[0] == "http_requests_total"}
    assert "/api/companies/:id/emissions" in routes and "unmatched" in routes
    assert not any(r and ("123" in r or "wp-login" in r) for r in routes)


def test_health_shape_and_status(svc: Service) -> None:
    resp = svc.http.get(svc.url + "/health", timeout=5)
    assert resp.status_code == 200
    jsonschema.validate(resp.json(), HEALTH_SCHEMA)
    assert resp.json()["status"] == "healthy"


@pytest.mark.parametrize(
    "health, code, overall, component",
    [("unhealthy", 503, "unhealthy", "external_apis"),
     ("degraded", 200, "degraded", "external_apis"),
     ({"redis": "unhealthy"}, 503, "unhealthy", "redis"),
     ({"memory": "degraded"}, 200, "degraded", "memory")],
    ids=["unhealthy-503", "degraded-200", "redis-down", "memory-degraded"],
)
def test_health_fault(svc: Service, health: Any, code: int, overall: str, component: str) -> None:
    assert svc.fault(health=health).status_code == 200
    resp = svc.http.get(svc.url + "/health", timeout=5)
    assert resp.status_code == code
    jsonschema.validate(resp.json(), HEALTH_SCHEMA)
    assert resp.json()["status"] == overall
    assert resp.json()["checks"][component]["status"] == overall
    expected = {"unhealthy": 0.0, "degraded": 0.5}[overall]
    assert svc.value("health_check_status", component=component) == expected
    svc.http.delete(svc.faults_url, timeout=5)
    assert svc.http.get(svc.url + "/health", timeout=5).status_code == 200
    assert svc.value("health_check_status", component=component) == 1.0


def test_error_ratio_fault_hits_only_its_routes(svc: Service) -> None:
    errors = lambda: svc.value("http_requests_total", method="GET", route="/api/reports", status_code="500")  # noqa: E731
    before = errors()
    assert svc.fault(error_ratio=0.5, routes=["/api/reports"]).status_code == 200
    codes = [svc.http.get(svc.url + "/api/reports", timeout=5).status_code for _ in range(40)]
    assert codes.count(500) == 20 and codes.count(200) == 20
    assert svc.http.get(svc.url + "/api/targets", timeout=5).status_code == 200
    assert errors() - before == 20
    svc.http.delete(svc.faults_url, timeout=5)
    assert {svc.http.get(svc.url + "/api/reports", timeout=5).status_code for _ in range(10)} == {200}


def test_latency_fault_shows_in_duration_histogram(svc: Service) -> None:
    labels = {"method": "GET", "route": "/api/targets", "status_code": "200"}
    fast_before = svc.value("http_request_duration_seconds_bucket", le="0.1", **labels)
    count_before = svc.value("http_request_duration_seconds_count", **labels)
    assert svc.fault(latency_ms=350).status_code == 200
    start = time.perf_counter()
    for _ in range(3):
        svc.http.get(svc.url + "/api/targets", timeout=5)
    assert time.perf_counter() - start >= 1.0
    assert svc.value("http_request_duration_seconds_count", **labels) - count_before == 3
    assert svc.value("http_request_duration_seconds_bucket", le="0.1", **labels) == fast_before
    assert svc.value("http_request_duration_seconds_bucket", le="0.5", **labels) - fast_before >= 3
    svc.http.delete(svc.faults_url, timeout=5)
    start = time.perf_counter()
    svc.http.get(svc.url + "/api/targets", timeout=5)
    assert time.perf_counter() - start < 0.3


def test_db_failures_count_connection_errors(svc: Service) -> None:
    errs = lambda: svc.value("database_connection_errors_total", error_type="connection_refused")  # noqa: E731
    before = errs()
    assert svc.fault(db_failures=True).status_code == 200
    codes = [svc.http.get(svc.url + "/api/companies", timeout=5).status_code for _ in range(6)]
    assert codes == [500] * 6
    health = svc.http.get(svc.url + "/health", timeout=5)
    assert health.status_code == 503 and health.json()["checks"]["database"]["status"] == "unhealthy"
    assert errs() - before >= 7  # six requests, the /health probe, the scrape's health refresh
    svc.http.delete(svc.faults_url, timeout=5)
    assert svc.http.get(svc.url + "/api/companies", timeout=5).status_code == 200
    stable = errs()
    svc.http.get(svc.url + "/api/companies", timeout=5)
    assert errs() == stable


def test_memory_growth_is_capped_and_freed(svc: Service) -> None:
    rss = lambda: svc.value("process_resident_memory_bytes")  # noqa: E731
    base = rss()
    assert svc.fault(memory_growth_mb_per_s=200).status_code == 200
    time.sleep(0.8)
    state = svc.http.get(svc.faults_url, timeout=5).json()
    assert state["memory_grown_mb"] == MEMORY_CAP_MB  # 200 MB/s for 0.8s, capped
    assert rss() - base > (MEMORY_CAP_MB - 8) * 1048576
    assert svc.http.delete(svc.faults_url, timeout=5).json()["memory_grown_mb"] == 0
    assert rss() - base < 16 * 1048576


@pytest.mark.parametrize(
    "body, needle",
    [({"error_ratio": 2}, "error_ratio"), ({"error_ratio": "x"}, "error_ratio"),
     ({"latency_ms": -1}, "latency_ms"), ({"db_failures": "yes"}, "db_failures"),
     ({"memory_growth_mb_per_s": 10_000}, "memory_growth_mb_per_s"), ({"health": "sick"}, "health"),
     ({"health": {"kafka": "unhealthy"}}, "health.kafka"), ({"routes": ["/nope"]}, "routes"),
     ({"explode": True}, "explode"), ([1, 2], "object")],
    ids=["ratio-range", "ratio-type", "latency-negative", "db-type", "growth-range", "health-value",
         "health-component", "unknown-route", "unknown-key", "not-object"],
)
def test_invalid_fault_is_400(svc: Service, body: Any, needle: str) -> None:
    resp = svc.http.post(svc.faults_url, json=body, timeout=5)
    assert resp.status_code == 400 and needle in resp.json()["error"]
    assert svc.http.get(svc.faults_url, timeout=5).json()["error_ratio"] == 0


def test_fault_body_not_json_is_400(svc: Service) -> None:
    resp = svc.http.post(svc.faults_url, data=b"{nope", timeout=5)
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]


VITAL = {"metric": "LCP", "value": 1200, "rating": "good", "page": "/dashboard"}


@pytest.mark.parametrize(
    "route, body, field",
    [("web-vitals", {**VITAL, "metric": "XYZ"}, "metric"),
     ("web-vitals", {k: v for k, v in VITAL.items() if k != "rating"}, "rating"),
     ("web-vitals", {**VITAL, "value": "fast"}, "value"),
     ("web-vitals", {**VITAL, "user_id": "u-1"}, "user_id"),
     ("page-performance", {"page": "/", "domContentLoaded": 1, "loadComplete": -5, "firstByte": 1}, "loadComplete"),
     ("slow-render", {"componentId": "App", "phase": "paint", "actualDuration": 60}, "phase"),
     ("logs", {"logs": [{"level": "fatal", "message": "x", "timestamp": 1, "url": "/"}]}, "logs.0.level"),
     ("logs", "not an object", "")],
    ids=["vital-metric", "vital-missing-rating", "vital-value-type", "vital-user-id", "perf-negative",
         "render-phase", "log-level", "logs-not-object"],
)
def test_invalid_analytics_body_is_400(svc: Service, route: str, body: Any, field: str) -> None:
    path = "/api/logs" if route == "logs" else f"/api/analytics/{route}"
    resp = svc.http.post(svc.url + path, json=body, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["field"] == field


def test_analytics_body_not_json_is_400(svc: Service) -> None:
    resp = svc.http.post(svc.url + "/api/analytics/web-vitals", data=b"{", timeout=5,
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["message"]


@pytest.mark.parametrize(
    "page, template",
    [("/companies/123", "/companies/:id"), ("https://gocarbontracker.com/reports/9?tab=1", "/reports/:id"),
     ("dashboard", "/dashboard"), ("/wp-admin/setup.php", "other"), ("/", "/")],
    ids=["numeric-id", "full-url", "page-name", "unknown", "root"],
)
def test_web_vitals_pages_are_templated(svc: Service, page: str, template: str) -> None:
    labels = {"metric": "TTFB", "rating": "poor", "page_template": template}
    before = svc.value("web_vitals_reports_total", **labels)
    resp = svc.http.post(svc.url + "/api/analytics/web-vitals",
                         json={"metric": "TTFB", "value": 900, "rating": "poor", "page": page}, timeout=5)
    assert resp.status_code == 202
    assert svc.value("web_vitals_reports_total", **labels) - before == 1


def _log_record(svc: Service, url: str, wait_s: float = 5.0) -> dict[str, Any]:
    """The request's log line: the service writes it after the response, so it may lag a little."""
    deadline = time.monotonic() + wait_s
    while True:
        # Only complete lines: the last one may be half written.
        lines = [json.loads(line) for line in svc.log.read_text().split("\n")[:-1] if line.strip()]
        found = [r for r in lines if r.get("url") == url]
        if found or time.monotonic() > deadline:
            assert found, f"no log line for {url} within {wait_s}s"
            return found[-1]
        time.sleep(0.05)


LOG_LINE_SCHEMA = json.loads((ROOT / "monitoring" / "logging" / "log-line.schema.json").read_text())


def test_request_log_has_seed_fields_and_correlation_ids(svc: Service) -> None:
    r = svc.http.get(svc.url + "/api/targets?from=log-test", headers={"X-User-Id": "u-9", "X-Request-Id": "req-log-1"},
                     timeout=5)
    record = _log_record(svc, "/api/targets?from=log-test")
    jsonschema.validate(record, LOG_LINE_SCHEMA, format_checker=jsonschema.FormatChecker())
    assert (record["service"], record["statusCode"], record["route"], record["request_id"]) == (
        "gocarbon-tracker", 200, "/api/targets", "req-log-1")
    assert "userId" not in record  # personal data never reaches the log (logging/forbidden-field)
    assert r.headers["X-Request-Id"] == "req-log-1"


def test_log_lines_of_a_validation_error_are_warn_with_one_trace(svc: Service) -> None:
    svc.http.post(svc.url + "/api/emissions?from=validation", json={"company_id": 1}, timeout=5)
    record = _log_record(svc, "/api/emissions?from=validation")
    assert (record["level"], record["statusCode"]) == ("warn", 400)
    lines = [json.loads(x) for x in svc.log.read_text().splitlines() if x.strip()]
    same = [x for x in lines if x.get("trace_id") == record["trace_id"]]
    assert [(x["level"], x["message"]) for x in same] == [("warn", "Validation error"), ("warn", "HTTP Request")]
    for line in same:
        jsonschema.validate(line, LOG_LINE_SCHEMA)


def test_metrics_in_openmetrics_when_asked(svc: Service) -> None:
    r = svc.http.get(svc.url + "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}, timeout=5)
    assert r.headers["Content-Type"].startswith("application/openmetrics-text")
    text = r.text
    assert text.rstrip().endswith("# EOF")
    assert "http_request_duration_seconds_bucket" in text


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moncheck.service", "--port", "0", *args],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_control_refuses_non_loopback(host: str) -> None:
    result = _run("--control-port", "0", "--control-host", host, "--catalog", str(CATALOG))
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content, needle",
    [(None, "file not found"), ("metrics:\n  - name: x\n    type: [", "metrics.yml:3: invalid YAML"),
     ("metrics:\n  - name: up\n    type: gauge\n    source: prometheus\n", "http_requests_total"),
     ("metrics:\n  - name: http_requests_total\n    type: gauge\n    source: service\n", ":2:")],
    ids=["missing", "malformed", "missing-service-metric", "wrong-type"],
)
def test_bad_catalog_is_a_clean_error(tmp_path: Path, content: str | None, needle: str) -> None:
    path = tmp_path / "metrics.yml"
    if content is not None:
        path.write_text(content)
    result = _run("--control-port", "0", "--catalog", str(path))
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    service = Service(tmp_path, "--uptime-interval", "0")
    try:
        service.http.get(service.url + "/", timeout=5)
        service.proc.send_signal(signal.SIGTERM)
        assert service.proc.wait(10) == 0
    finally:
        service.stop()


def test_scrape_does_not_wait_for_a_slow_database(svc: Service) -> None:
    # A slow dependency must not make /metrics exceed the scrape timeout (the target would go
    # down and hide DatabaseQueryLatencyHigh): the health gauge refreshes in the background.
    assert svc.fault(db_latency_ms=3000).status_code == 200
    try:
        for _ in range(3):
            assert svc.http.get(svc.url + "/metrics", timeout=1.5).status_code == 200
    finally:
        svc.http.delete(svc.faults_url, timeout=5)
