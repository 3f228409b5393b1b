"""A small, bounded burst of loopback traffic so a fresh local stack has something to report."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests

from moncheck.netutil import is_loopback

PATHS = ("/", "/dashboard", "/api/companies", "/api/emission-factors", "/api/reports", "/health")
MAX_SECONDS = 120.0
MAX_RPS = 50.0


def drive(service_url: str, seconds: float, rps: float = 20.0) -> int:
    """GET a few routes at ``rps`` for ``seconds`` (bounded); returns the number of requests sent."""
    if not is_loopback(service_url):
        raise ValueError(f"refusing to generate traffic to non-loopback {urlsplit(service_url).hostname}")
    seconds, rps = min(seconds, MAX_SECONDS), min(rps, MAX_RPS)
    session = requests.Session()
    session.trust_env = False
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        try:
            session.get(service_url.rstrip("/") + PATHS[sent % len(PATHS)], timeout=2)
        except requests.RequestException:
            pass  # a fault under test; the report shows the result
        sent += 1
        time.sleep(1.0 / rps)
    return sent
