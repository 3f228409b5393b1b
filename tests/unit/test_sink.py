"""The notification sink: real HTTP posts, a real SMTP conversation, and a real Alertmanager."""

from __future__ import annotations

import json
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, UTC
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests

from helpers import stop, wait_http
from moncheck import toolchain
from moncheck.stack.procs import free_port
from moncheck.stack.sink import Sink, parse_http

WEBHOOK = {
    "receiver": "webhook-ops", "status": "firing",
    "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "severity": "critical"},
                "fingerprint": "0123abcd", "startsAt": "2026-12-01T20:00:00Z", "endsAt": "0001-01-01T00:00:00Z"},
               {"status": "resolved", "labels": {"alertname": "LowDiskSpace"}}],
}
SLACK_MARKERS = {"channel": "#alerts", "attachments": [
    {"title": "[FIRING:1] HighErrorRate", "text": "alertname=HighErrorRate status=firing severity=critical"}]}
SLACK_DEFAULT = {"channel": "#critical-alerts", "attachments": [
    {"title": "[RESOLVED] DatabaseConnectionFailure for gocarbon", "text": ""}]}
PD_V2 = {"routing_key": "k", "event_action": "resolve", "dedup_key": "abc",
         "payload": {"summary": "[RESOLVED] HighMemoryUsage", "custom_details": {"resolved": " - alertname = HighMemoryUsage\n"}}}
PD_V1 = {"service_key": "k", "event_type": "trigger", "description": "[FIRING:2] LowDiskSpace (node)"}


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink(port=0, smtp_port=0) as s:
        yield s


def notifications(sink: Sink, **params: str) -> list[dict[str, Any]]:
    resp = requests.get(sink.url + "/notifications", params=params, timeout=5)
    assert resp.status_code == 200
    return resp.json()


@pytest.mark.parametrize(
    "integration, body, status, names",
    [("webhook", WEBHOOK, "firing", ["HighErrorRate", "LowDiskSpace"]),
     ("slack", SLACK_MARKERS, "firing", ["HighErrorRate"]),
     ("slack", SLACK_DEFAULT, "resolved", ["DatabaseConnectionFailure"]),
     ("pagerduty", PD_V2, "resolved", ["HighMemoryUsage"]),
     ("pagerduty", PD_V1, "firing", ["LowDiskSpace"])],
    ids=["webhook", "slack-markers", "slack-default-title", "pagerduty-v2", "pagerduty-v1"],
)
def test_http_notification_is_recorded(sink: Sink, integration: str, body: Any, status: str,
                                       names: list[str]) -> None:
    before = time.time()
    resp = requests.post(f"{sink.url}/{integration}/my-receiver", json=body, timeout=5)
    assert resp.status_code in (200, 202)
    [record] = notifications(sink)
    assert (record["integration"], record["receiver"], record["status"]) == (integration, "my-receiver", status)
    assert record["alertnames"] == names
    assert before <= record["received_at"] <= time.time()
    assert record["body"] == body


@pytest.mark.parametrize("integration", ["webhook", "shadow"])
def test_webhook_keeps_each_alert_instance(integration: str) -> None:
    parsed = parse_http(integration, json.dumps(WEBHOOK).encode())
    assert parsed["alerts"] == [
        {"alertname": "HighErrorRate", "status": "firing", "fingerprint": "0123abcd",
         "labels": {"alertname": "HighErrorRate", "severity": "critical"}, "annotations": {},
         "startsAt": "2026-12-01T20:00:00Z", "endsAt": "0001-01-01T00:00:00Z"},
        {"alertname": "LowDiskSpace", "status": "resolved", "labels": {"alertname": "LowDiskSpace"},
         "annotations": {}, "fingerprint": None, "startsAt": None, "endsAt": None}]


def test_unknown_path_is_recorded_and_refused(sink: Sink) -> None:
    assert requests.post(sink.url + "/opsgenie/x", data=b"{}", timeout=5).status_code == 404
    assert requests.post(sink.url + "/slack/", data=b"{}", timeout=5).status_code == 404
    assert [r["integration"] for r in notifications(sink)] == ["unknown", "slack"]


def test_filters_and_clear(sink: Sink) -> None:
    requests.post(sink.url + "/slack/slack-alerts", json=SLACK_MARKERS, timeout=5)
    requests.post(sink.url + "/webhook/hook", json=WEBHOOK, timeout=5)
    assert len(notifications(sink, receiver="slack-alerts")) == 1
    assert len(notifications(sink, alertname="LowDiskSpace")) == 1
    assert len(notifications(sink, integration="webhook", status="firing")) == 1
    assert notifications(sink, since=str(time.time() + 60)) == []
    assert requests.delete(sink.url + "/notifications", timeout=5).json() == {"cleared": 2}
    assert notifications(sink) == []


@pytest.mark.parametrize(
    "to, extra_headers, receiver",
    [("email-critical@sink.local", {}, "email-critical"),
     ("oncall@gocarbontracker.com", {"X-Receiver": "email-engineering"}, "email-engineering"),
     ("oncall@gocarbontracker.com", {}, "oncall@gocarbontracker.com")],
    ids=["to-sink-local", "x-receiver-header", "plain-address"],
)
def test_smtp_conversation_is_recorded(sink: Sink, to: str, extra_headers: dict[str, str], receiver: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alertmanager@sink.local", to, "[FIRING:1] HighErrorRate (critical)"
    for k, v in extra_headers.items():
        msg[k] = v
    msg.set_content("Labels:\n alertname = HighErrorRate\n.leading dot line\n")
    msg.add_alternative("<p>alertname = HighErrorRate<br>status=firing</p>", subtype="html")
    assert sink.smtp_port is not None
    with smtplib.SMTP("127.0.0.1", sink.smtp_port, timeout=5) as smtp:
        code, _ = smtp.ehlo("localhost")
        assert code == 250 and not smtp.has_extn("starttls")
        smtp.send_message(msg)
    [record] = notifications(sink)
    assert (record["integration"], record["receiver"], record["status"]) == ("email", receiver, "firing")
    assert record["alertnames"] == ["HighErrorRate"]
    assert to in record["recipients"]
    assert ".leading dot line" in record["body"]  # dot-stuffing undone


def test_smtp_rejects_out_of_order_commands(sink: Sink) -> None:
    assert sink.smtp_port is not None
    with smtplib.SMTP("127.0.0.1", sink.smtp_port, timeout=5) as smtp:
        smtp.helo("localhost")
        assert smtp.docmd("RCPT", "TO:<a@sink.local>")[0] == 503
        assert smtp.docmd("DATA")[0] == 503
        assert smtp.docmd("STARTTLS")[0] == 502
    assert notifications(sink) == []


def test_cli_runs_writes_out_file_and_stops_on_sigterm(tmp_path: Path) -> None:
    port, out = free_port(), tmp_path / "notifications.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "moncheck.stack.sink", "--port", str(port),
                             "--smtp-port", str(free_port()), "--out", str(out)],
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        requests.post(f"http://127.0.0.1:{port}/webhook/w", json=WEBHOOK, timeout=5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        [line] = out.read_text().splitlines()
        assert json.loads(line)["receiver"] == "w"
    finally:
        stop(proc)


def test_cli_port_in_use_is_a_clean_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = subprocess.run([sys.executable, "-m", "moncheck.stack.sink", "--port",
                                 str(busy.getsockname()[1])], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "moncheck: error:" in result.stderr and "Traceback" not in result.stderr


ALERTMANAGER = toolchain.find("alertmanager")

AM_CONFIG = """
global:
  smtp_smarthost: 127.0.0.1:{smtp}
  smtp_from: alertmanager@sink.local
  smtp_require_tls: false
route:
  receiver: slack-critical
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - {{matchers: ['severity="critical"'], receiver: slack-critical, continue: true}}
    - {{matchers: ['severity="critical"'], receiver: email-critical, continue: true}}
    - {{matchers: ['severity="critical"'], receiver: pagerduty-critical}}
receivers:
  - name: slack-critical
    slack_configs:
      - api_url: {url}/slack/slack-critical
        channel: '#critical-alerts'
        send_resolved: true
        text: '{{{{ range .Alerts }}}}alertname={{{{ .Labels.alertname }}}} status={{{{ .Status }}}} {{{{ end }}}}'
  - name: email-critical
    email_configs:
      - to: email-critical@sink.local
        send_resolved: true
  - name: pagerduty-critical
    pagerduty_configs:
      - routing_key: drill-routing-key
        url: {url}/pagerduty/pagerduty-critical
        send_resolved: true
"""


@pytest.mark.skipif(ALERTMANAGER is None, reason="alertmanager binary not installed")
def test_real_alertmanager_reaches_every_receiver(sink: Sink, tmp_path: Path) -> None:
    assert ALERTMANAGER is not None
    config = tmp_path / "alertmanager.yml"
    config.write_text(AM_CONFIG.format(smtp=sink.smtp_port, url=sink.url))
    port = free_port()
    am_url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_http(am_url + "/-/ready", proc)
        now = datetime.now(UTC)
        alert = {"labels": {"alertname": "SinkDrill", "severity": "critical"},
                 "annotations": {"summary": "sink drill"}, "startsAt": now.isoformat()}
        assert requests.post(am_url + "/api/v2/alerts", json=[alert], timeout=5).status_code == 200
        expected = {("slack", "slack-critical"), ("email", "email-critical"), ("pagerduty", "pagerduty-critical")}

        def arrived(status: str) -> set[tuple[str, str]]:
            return {(r["integration"], r["receiver"]) for r in notifications(sink, status=status)
                    if "SinkDrill" in r["alertnames"]}

        deadline = time.monotonic() + 20
        while arrived("firing") != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert arrived("firing") == expected
        alert["endsAt"] = datetime.now(UTC).isoformat()
        assert requests.post(am_url + "/api/v2/alerts", json=[alert], timeout=5).status_code == 200
        deadline = time.monotonic() + 20
        while arrived("resolved") != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert arrived("resolved") == expected
    finally:
        stop(proc)
