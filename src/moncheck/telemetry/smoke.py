"""Smoke checks of a deployment's error tracking, tracing and logs (``tests/smoke/test_smoke_telemetry.py``).

Credentials come from the environment variables the policies name (``SENTRY_DSN``,
``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``), as the other smoke targets take
theirs. Probes write nothing a person would see: the error-tracking probe is an envelope with a
single empty client report (no event), the tracing probe an empty ``ExportTraceServiceRequest``.
Every failure is one ``SmokeFailure`` line: what, against which URL (credentials removed), what came back.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from moncheck.service.telemetry import otlp_headers
from moncheck.smoke.retry import SmokeFailure

__all__ = ["Dsn", "lines_with", "otlp_headers", "parse_dsn", "probe_error_tracking", "probe_tracing",
           "search_logs", "synthetic_request"]

TIMEOUT = 10.0


@dataclass(frozen=True)
class Dsn:
    url: str          # scheme://host[:port][/path] without the key
    key: str
    project: str

    @property
    def envelope_url(self) -> str:
        return f"{self.url}/api/{self.project}/envelope/"


def parse_dsn(dsn: str) -> Dsn:
    """``scheme://key@host[:port][/path]/project``; ValueError naming what is wrong (never the key)."""
    parts = urlsplit(dsn.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the DSN is not an http(s) URL")
    if not parts.username:
        raise ValueError("the DSN has no public key (scheme://KEY@host/project)")
    path, _, project = parts.path.rstrip("/").rpartition("/")
    if not project.isdigit():
        raise ValueError("the DSN does not end in a numeric project id")
    port = f":{parts.port}" if parts.port else ""
    return Dsn(f"{parts.scheme}://{parts.hostname}{port}{path}", parts.username, project)


def probe_error_tracking(dsn: Dsn) -> int:
    """POST a harmless envelope (one empty client report); the HTTP status (200 expected)."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    report = json.dumps({"timestamp": time.time(), "discarded_events": []})
    body = f'{{"sent_at":"{now}"}}\n{{"type":"client_report","length":{len(report)}}}\n{report}\n'
    auth = f"Sentry sentry_version=7, sentry_key={dsn.key}, sentry_client=moncheck-smoke/1"
    try:
        r = requests.post(dsn.envelope_url, data=body.encode(), timeout=TIMEOUT,
                          headers={"Content-Type": "application/x-sentry-envelope", "X-Sentry-Auth": auth})
    except requests.RequestException as e:
        raise SmokeFailure("error tracking reachable", dsn.envelope_url, type(e).__name__) from None
    return r.status_code


def probe_tracing(endpoint: str, headers: dict[str, str]) -> int:
    """POST an empty OTLP/JSON export to ``<endpoint>/v1/traces``; the HTTP status (200 expected)."""
    url = endpoint.rstrip("/") + "/v1/traces"
    try:
        r = requests.post(url, data=b"{}", timeout=TIMEOUT, headers={"Content-Type": "application/json", **headers})
    except requests.RequestException as e:
        raise SmokeFailure("tracing endpoint reachable", url, type(e).__name__) from None
    return r.status_code


def synthetic_request(service_url: str, path: str = "/health") -> tuple[str, str]:
    """GET ``path`` with a fresh sampled ``traceparent`` and request id; (trace id, request id)."""
    trace_id, request_id = secrets.token_hex(16), f"smoke-{secrets.token_hex(8)}"
    url = service_url.rstrip("/") + path
    try:
        requests.get(url, timeout=TIMEOUT, headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
                                                    "X-Request-Id": request_id, "User-Agent": "moncheck-smoke"})
    except requests.RequestException as e:
        raise SmokeFailure("synthetic request", url, type(e).__name__) from None
    return trace_id, request_id


def lines_with(text: str, request_id: str) -> list[dict[str, Any]]:
    """JSON log lines of ``text`` whose ``request_id`` is ``request_id``."""
    out = []
    for line in text.splitlines():
        if request_id in line and line.lstrip().startswith("{"):
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict) and doc.get("request_id") == request_id:
                out.append(doc)
    return out


def search_logs(logs_url: str, request_id: str, auth: str | None) -> list[dict[str, Any]]:
    """Log lines of one request from an Elasticsearch ``_search`` URL (the seed's ELK stack)."""
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    query = {"query": {"term": {"request_id": request_id}}, "size": 20}
    try:
        r = requests.post(logs_url, json=query, headers=headers, timeout=TIMEOUT)
        r.raise_for_status()
        hits = r.json()["hits"]["hits"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as e:
        raise SmokeFailure("log search", logs_url, f"{type(e).__name__}: {e}") from None
    return [h.get("_source", {}) for h in hits if isinstance(h, dict)]
