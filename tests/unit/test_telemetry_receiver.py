"""The telemetry receiver (Sentry envelopes, OTLP/HTTP traces) and the service's real SDKs feeding it.

Real processes on free loopback ports: the receiver, and the reference service with sentry-sdk and
the OpenTelemetry SDK pointed at it (tracing at ratio 1.0 from a copied policy, so every request
is kept and the assertions are exact)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from helpers import stop, wait_http
from moncheck.service.telemetry import make_before_send
from moncheck.stack.procs import free_port
from moncheck.stack.telemetry import dsn
from moncheck.telemetry.spec import load_errors, load_tracing

ROOT = Path(__file__).resolve().parents[2]
ERRORS = ROOT / "monitoring/errors/errors.yml"
LOG_LINE_SCHEMA = json.loads((ROOT / "monitoring/logging/log-line.schema.json").read_text())
REQUIRED_SPAN_ATTRS = load_tracing(ROOT / "monitoring/tracing/tracing.yml").required_attributes


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "moncheck.stack.telemetry", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_http(self.url + "/health", self.proc)

    def get(self, path: str) -> Any:
        return requests.get(self.url + path, timeout=5).json()

    def wait_for(self, path: str, pred: Any, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            got = self.get(path)
            if pred(got) or time.monotonic() > deadline:
                return got
            time.sleep(0.1)


class Service:
    def __init__(self, tmp: Path, receiver: Receiver, environment: str) -> None:
        self.port, self.control = free_port(), free_port()
        self.log = tmp / f"{environment}.log"
        tracing = tmp / "monitoring/tracing/tracing.yml"
        tracing.parent.mkdir(parents=True, exist_ok=True)
        tracing.write_text((ROOT / "monitoring/tracing/tracing.yml").read_text().replace("ratio: 0.1 ", "ratio: 1.0 "))
        env = {"SENTRY_DSN": dsn(receiver.url), "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "SENTRY_RELEASE": "r-test",
               "PATH": "/usr/bin:/bin"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moncheck.service", "--port", str(self.port), "--control-port", str(self.control),
             "--catalog", str(ROOT / "monitoring/catalog/metrics.yml"), "--log-file", str(self.log),
             "--uptime-interval", "0", "--environment", environment, "--tracing-policy", str(tracing)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(self.url + "/health", self.proc)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.log.read_text().split("\n")[:-1] if x.strip()]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        assert stop(r.proc) == 0


@pytest.fixture
def clean(receiver: Receiver) -> Receiver:
    requests.delete(receiver.url + "/", timeout=5)
    return receiver


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Service]:
    s = Service(tmp_path_factory.mktemp("local"), receiver, "local")
    try:
        yield s
    finally:
        assert stop(s.proc) == 0


def test_unhandled_error_gives_one_event_one_trace_and_error_lines(local: Service, clean: Receiver) -> None:
    requests.post(f"http://127.0.0.1:{local.control}/faults", json={"exception_ratio": 1, "routes": ["/api/targets"]}, timeout=5)
    try:
        r = requests.get(local.url + "/api/targets", headers={"X-Request-Id": "req-unhandled"}, timeout=5)
    finally:
        requests.delete(f"http://127.0.0.1:{local.control}/faults", timeout=5)
    assert r.status_code == 500
    events = clean.wait_for("/events", lambda e: len(e) >= 1)
    assert len(events) == 1, events
    ev = events[0]
    assert (ev["environment"], ev["release"], ev["exception_types"], ev["handled"], ev["request_id"]) == (
        "local", "r-test", ["InjectedError"], False, "req-unhandled")
    lines = [x for x in local.lines() if x["request_id"] == "req-unhandled"]
    assert [(x["level"], x["message"]) for x in lines] == [("error", "Unhandled error"), ("error", "HTTP Request")]
    assert {x["trace_id"] for x in lines} == {ev["trace_id"]}
    assert lines[0]["sentry_event_id"] == ev["event_id"]
    for line in lines:
        jsonschema.validate(line, LOG_LINE_SCHEMA)
    spans = clean.wait_for(f"/traces/{ev['trace_id']}", lambda s: len(s) >= 1)
    assert [(s["name"], s["kind"], s["status"], s["span_id"]) for s in spans] == [
        ("GET /api/targets", "server", "error", ev["span_id"])]
    assert set(REQUIRED_SPAN_ATTRS) <= set(spans[0]["attributes"]), spans[0]["attributes"]
    assert spans[0]["attributes"]["http.response.status_code"] == 500
    assert spans[0]["resource"]["service.name"] == "gocarbon-tracker"


def test_validation_error_is_filtered_and_logged_at_warn(local: Service, clean: Receiver) -> None:
    r = requests.post(local.url + "/api/emissions", json={"kg_co2e": 1}, headers={"X-Request-Id": "req-invalid"}, timeout=5)
    assert r.status_code == 400
    spans = clean.wait_for("/spans", lambda s: any(x["attributes"].get("request.id") == "req-invalid" for x in s))
    assert any(x["attributes"].get("request.id") == "req-invalid" for x in spans)  # exported: the pipeline was live
    assert clean.get("/events") == []
    lines = [x for x in local.lines() if x["request_id"] == "req-invalid"]
    assert [(x["level"], x["message"]) for x in lines] == [("warn", "Validation error"), ("warn", "HTTP Request")]


def test_development_sends_no_event(tmp_path: Path, clean: Receiver) -> None:
    dev = Service(tmp_path, clean, "development")
    try:
        requests.post(f"http://127.0.0.1:{dev.control}/faults", json={"exception_ratio": 1}, timeout=5)
        assert requests.get(dev.url + "/api/targets", timeout=5).status_code == 500
    finally:
        assert stop(dev.proc) == 0  # shutdown flushes the SDK: anything queued would be sent now
    assert clean.get("/events") == []
    assert clean.get("/stats")["envelopes"] == 0


def test_undeclared_environment_refuses_to_start(tmp_path: Path, receiver: Receiver) -> None:
    r = subprocess.run([sys.executable, "-m", "moncheck.service", "--port", "0", "--control-port", "0",
                        "--environment", "prod"], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert r.returncode == 2
    assert "monitoring/errors/errors.yml" in r.stderr and "environment 'prod' is not declared" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("text,line,message", [
    ("service: x\ndsn_env: SENTRY_DSN\nenvironments: [{name: local, send: true}]\nsample_rates: {errors: 1, traces: 2}\nfilters: []\n", 4,
     "sample_rates/traces: 2 is greater than the maximum of 1"),
    ("service: [unclosed\n", 1, ""),
], ids=["schema", "yaml"])
def test_bad_errors_policy_is_one_line_with_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    bad = tmp_path / "errors.yml"
    bad.write_text(text)
    r = subprocess.run([sys.executable, "-m", "moncheck.service", "--port", "0", "--control-port", "0",
                        "--errors-policy", str(bad)], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    [out] = r.stderr.strip().splitlines()
    assert out.startswith(f"moncheck: error: {bad}:") and message in out, out
    if message:
        assert out.startswith(f"moncheck: error: {bad}:{line}:"), out


# ---------------------------------------------------------------------------- receiver protocol
def test_otlp_json_with_hex_ids_is_stored(clean: Receiver) -> None:
    body = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "x"}}]},
                               "scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c",
                                                          "spanId": "eee19b7ec3c1b174", "name": "GET /x", "kind": 2,
                                                          "startTimeUnixNano": "1000000000", "endTimeUnixNano": "1250000000",
                                                          "attributes": [{"key": "http.response.status_code",
                                                                          "value": {"intValue": "200"}}]}]}]}]}
    r = requests.post(clean.url + "/v1/traces", data=gzip.compress(json.dumps(body).encode()),
                      headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}, timeout=5)
    assert r.status_code == 200, r.text
    [span] = clean.get("/spans?trace_id=5b8efff798038103d269b633813fc60c")
    assert (span["name"], span["kind"], span["duration_s"], span["attributes"], span["resource"]) == (
        "GET /x", "server", 0.25, {"http.response.status_code": 200}, {"service.name": "x"})


def test_envelope_with_length_and_other_items(clean: Receiver) -> None:
    event = json.dumps({"event_id": "a" * 32, "environment": "staging", "release": "r9",
                        "exception": {"values": [{"type": "KeyError", "value": "'x'"}]},
                        "contexts": {"trace": {"trace_id": "b" * 32, "span_id": "c" * 16}}}).encode()
    env = (b'{"event_id":"' + b"a" * 32 + b'"}\n' + b'{"type":"event","length":' + str(len(event)).encode() + b"}\n"
           + event + b"\n" + b'{"type":"session"}\n{"sid":"s"}\n')
    r = requests.post(clean.url + "/api/1/envelope/", data=env, timeout=5)
    assert r.status_code == 200, r.text
    [ev] = clean.get("/events")
    assert (ev["event_id"], ev["environment"], ev["release"], ev["exception_types"], ev["trace_id"]) == (
        "a" * 32, "staging", "r9", ["KeyError"], "b" * 32)
    assert clean.get("/stats")["other_items"] >= 1


@pytest.mark.parametrize("path,ctype,body,message", [
    ("/v1/traces", "application/x-protobuf", b"\xff\xff\xff", "OTLP/protobuf body does not decode"),
    ("/v1/traces", "application/json", b"{nope", "OTLP/JSON body is not JSON"),
    ("/api/1/envelope/", "application/x-sentry-envelope", b'{}\n{"type":"event","length":99}\n{}', "shorter than its length 99"),
    ("/api/1/envelope/", "application/x-sentry-envelope", b"not json\n", "envelope header is not JSON"),
], ids=["protobuf", "json", "short-item", "bad-header"])
def test_malformed_bodies_get_400_with_reason(clean: Receiver, path: str, ctype: str, body: bytes, message: str) -> None:
    r = requests.post(clean.url + path, data=body, headers={"Content-Type": ctype}, timeout=5)
    assert r.status_code == 400 and message in r.json()["error"], r.text
    assert clean.get("/health") == {"status": "ok"}


def test_receiver_refuses_a_non_loopback_host() -> None:
    r = subprocess.run([sys.executable, "-m", "moncheck.stack.telemetry", "--host", "0.0.0.0", "--port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr.strip()) == (2, "moncheck: error: --host 0.0.0.0 is not a loopback address")


# ---------------------------------------------------------------------------- before_send from data
class ValidationError(Exception):
    pass


class SchemaValidationError(ValidationError):
    pass


def _exc_info(exc: BaseException) -> tuple[Any, ...]:
    return (type(exc), exc, None)


def test_before_send_drops_what_the_policy_says() -> None:
    before_send = make_before_send(load_errors(ERRORS), "local")
    ev = {"environment": "local", "exception": {"values": [{"type": "RuntimeError"}]}}
    assert before_send(ev, {"exc_info": _exc_info(RuntimeError("x"))}) is ev
    assert before_send(dict(ev), {"exc_info": _exc_info(SchemaValidationError("x"))}) is None  # subclass too
    assert before_send({**ev, "environment": "development"}, {}) is None
    assert before_send({**ev, "environment": "test"}, {}) is None


def test_before_send_looks_at_the_raised_exception_not_its_cause() -> None:
    """The seed tests values[0], the innermost cause: a real error caused by a validation error was dropped."""
    before_send = make_before_send(load_errors(ERRORS), "production")
    chained = {"environment": "production",
               "exception": {"values": [{"type": "ValidationError"}, {"type": "RuntimeError"}]}}
    assert before_send(chained, {}) is chained
    wrapped = {"environment": "production", "exception": {"values": [{"type": "RuntimeError"}, {"type": "ValidationError"}]}}
    assert before_send(wrapped, {}) is None
