"""Shared by the telemetry, browser and Lighthouse drills: a local stack of their own, Chromium's flags.

They leave errors, slow requests and poor vitals behind (HighErrorRate, WebVitalsPoorLCP may fire),
which must not leak into the fire drills' shared session stack and its healthy baseline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from moncheck.stack.fixtures import running_stack

import os

# Debian's package, installed by scripts/ensure-browser.sh; MONCHECK_CHROMIUM names another build
# already on the machine (e.g. a CI image's Chrome), never one a tool would download.
CHROMIUM = os.environ.get("MONCHECK_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def wait_up(url: str, proc: Any, seconds: float = 20) -> None:
    """Wait until ``url`` answers; fail the test if ``proc`` exits or time runs out."""
    import time

    import requests
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited with {proc.returncode}", pytrace=False)
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"{url} not up within {seconds:g}s", pytrace=False)


@pytest.fixture(scope="module", name="own_stack")
def own_stack_fixture(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from running_stack(request.config)
