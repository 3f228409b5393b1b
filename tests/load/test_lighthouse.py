"""The performance budgets (monitoring/lighthouse/lighthouserc.json) against the reference page (``-m load``).

Lighthouse CI and Lighthouse are installed at set-up into ``.moncheck/node`` (scripts/ensure-browser.sh)
and audit Debian's ``/usr/bin/chromium`` on loopback: nothing is downloaded at run time. The budgets
must pass on the healthy page and fail, naming the LCP audit, when the fault control delays the
page's largest image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from moncheck.stack.procs import free_port
from telemetry_stack import CHROMIUM, FLAGS, wait_up

REPO = Path(__file__).resolve().parents[2]
NODE = REPO / ".moncheck" / "node"
LHCI = NODE / "node_modules" / ".bin" / "lhci"
CONFIG = REPO / "monitoring" / "lighthouse" / "lighthouserc.json"

pytestmark = pytest.mark.load


@pytest.fixture(scope="module")
def page() -> Iterator[tuple[str, str]]:
    if not LHCI.is_file():
        pytest.fail(f"{LHCI} not found: run `make setup` (scripts/ensure-browser.sh)", pytrace=False)
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: run `make setup`", pytrace=False)
    port, control = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moncheck.service", "--port", str(port), "--control-port",
                             str(control), "--uptime-interval", "0", "--log-file", os.devnull],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(f"http://127.0.0.1:{port}/health", proc)
        yield f"http://127.0.0.1:{port}/dashboard", f"http://127.0.0.1:{control}/faults"
    finally:
        proc.terminate()
        proc.wait(15)


def _lhci(url: str) -> subprocess.CompletedProcess[str]:
    work = tempfile.mkdtemp(prefix="moncheck-lhci-")
    try:
        # TMPDIR: Chromium's singleton folder and lighthouse's own files stay in `work` (removed).
        env = {**os.environ, "CHROME_PATH": CHROMIUM, "HOME": work, "LHCI_NO_LIGHTHOUSERC": "1", "TMPDIR": work}
        flags = " ".join([*FLAGS, f"--user-data-dir={work}/profile"])
        collect = subprocess.run([str(LHCI), "collect", f"--config={CONFIG}", f"--url={url}", "--numberOfRuns=1",
                                  # Observed timings: on loopback a simulated network model would smooth
                                  # the delayed image away (lantern estimates per-origin latency).
                                  "--settings.throttlingMethod=provided",
                                  f"--settings.chromeFlags={flags}"], cwd=work, env=env, capture_output=True,
                                 text=True, timeout=180)
        if collect.returncode != 0:
            return collect
        return subprocess.run([str(LHCI), "assert", f"--config={CONFIG}"], cwd=work, env=env, capture_output=True,
                              text=True, timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_reference_page_meets_the_budgets(page: tuple[str, str]) -> None:
    url, _ = page
    r = _lhci(url)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_slowed_image_breaks_the_lcp_budget(page: tuple[str, str]) -> None:
    url, faults = page
    requests.post(faults, json={"latency_ms": 4300, "routes": ["/images/:file"]}, timeout=5).raise_for_status()
    try:
        r = _lhci(url)
    finally:
        requests.delete(faults, timeout=5)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out[-3000:]
    assert "largest-contentful-paint failure for maxNumericValue assertion" in out.replace("\x1b[1m", "").replace("\x1b[0m", ""), out[-3000:]
