"""The telemetry smoke probes against the real receiver (loopback), and DSN parsing."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from helpers import stop, wait_http
from moncheck.stack.procs import free_port
from moncheck.telemetry import smoke


@pytest.mark.parametrize("dsn,expected", [
    ("https://abc123@o1.ingest.example.io/42", ("https://o1.ingest.example.io", "abc123", "42")),
    ("http://public@127.0.0.1:9000/sentry/7", ("http://127.0.0.1:9000/sentry", "public", "7")),
], ids=["saas", "path-prefix"])
def test_parse_dsn(dsn: str, expected: tuple[str, str, str]) -> None:
    d = smoke.parse_dsn(dsn)
    assert (d.url, d.key, d.project) == expected


@pytest.mark.parametrize("dsn,message", [
    ("ftp://k@h/1", "not an http(s) URL"),
    ("https://h.example/1", "no public key"),
    ("https://secretkey@h.example/project", "numeric project id"),
], ids=["scheme", "no-key", "project"])
def test_parse_dsn_errors_never_show_the_key(dsn: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as e:
        smoke.parse_dsn(dsn)
    assert "secretkey" not in str(e.value)


def test_probes_leave_no_event_or_span() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "moncheck.stack.telemetry", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_http(url + "/health", proc)
        assert smoke.probe_error_tracking(smoke.parse_dsn(f"http://public@127.0.0.1:{port}/1")) == 200
        assert smoke.probe_tracing(url, {}) == 200
        assert requests.get(url + "/events", timeout=5).json() == []
        assert requests.get(url + "/spans", timeout=5).json() == []
        stats = requests.get(url + "/stats", timeout=5).json()
        assert (stats["envelopes"], stats["other_items"], stats["trace_requests"], stats["rejected"]) == (1, 1, 1, 0)
    finally:
        assert stop(proc) == 0


def test_unreachable_endpoint_is_one_line_failure() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(AssertionError, match=r"^tracing endpoint reachable \[http://127\.0\.0\.1:\d+/v1/traces\]: ConnectionError$"):
        smoke.probe_tracing(f"http://127.0.0.1:{port}", {})
