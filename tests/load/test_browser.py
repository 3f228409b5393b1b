"""Browser drills: the reference service's dashboard page in Debian's headless Chromium (``pytest -m load``).

The page uses the real web-vitals package and @sentry/browser (vendored at set-up by
``scripts/ensure-browser.sh``, never fetched at run time) and the seed's frontend logger with its
bounded queue. Playwright drives ``/usr/bin/chromium`` with a fresh profile; it never downloads a
browser. Everything is on loopback, on a stack of its own (``telemetry_stack``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from moncheck.service.app import STATIC
from telemetry_stack import CHROMIUM, FLAGS
from telemetry_stack import own_stack_fixture  # noqa: F401 - the module's own stack
VENDOR = ("web-vitals.iife.js", "sentry.iife.js")
IMAGE_DELAY_MS = 4300   # web-vitals rates LCP poor above 4000 ms
# Pages loaded at once. Chromium opens at most 6 connections per host: with more pages than 4 the
# delayed images hold them all and the other pages' scripts queue behind them (a round of 6 took
# ~25 s, of 4 ~5 s). The alert also needs a minimum number of LCP reports in its window.
PAGES_PER_ROUND = 4
MAX_DRILL_S = 150       # bounded: give up (and fail) after this

pytestmark = pytest.mark.load

# Two animation frames (the next paint has happened), bounded: a background page may get none.
PAINTED = ("() => new Promise(r => { setTimeout(r, 1000); "
           "requestAnimationFrame(() => requestAnimationFrame(r)); })")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [n for n in VENDOR if not (STATIC / "vendor" / n).is_file()]
    if missing:
        pytest.fail(f"vendored page scripts missing ({', '.join(missing)}): run `make setup` "
                    "(scripts/ensure-browser.sh)", pytrace=False)
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: run `make setup` (installs Debian's chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="moncheck-chromium-")
    try:
        with sync_playwright() as pw:
            # TMPDIR: Chromium's singleton folder (org.chromium.Chromium.*) goes into the profile,
            # which is removed, instead of being left in /tmp.
            ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                                                        env={**os.environ, "TMPDIR": profile})
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _fault(stack: Any, **body: Any) -> None:
    requests.post(stack.control_url + "/faults", json=body, timeout=5).raise_for_status()


def _firing(stack: Any, alert: str) -> bool:
    alerts = requests.get(stack.prometheus_url + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return any(a["labels"].get("alertname") == alert and a["state"] == "firing" for a in alerts)


def _value(stack: Any, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families
    text = requests.get(stack.service_url + "/metrics", timeout=5).text
    return sum(s.value for fam in text_string_to_metric_families(text) for s in fam.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_slowed_image_raises_web_vitals_poor_lcp(own_stack: Any, browser: Any) -> None:
    from moncheck.drills.runner import stack_timings

    # Floor: the first poor reports are scraped, evaluated, then `for` must elapse (compressed).
    t = stack_timings(own_stack)
    floor = (t.alerts["WebVitalsPoorLCP"]["for_ms"] + t.scrape_ms + t.eval_ms) / 1000
    page_url = own_stack.service_url + "/dashboard"
    pages = [browser.new_page() for _ in range(PAGES_PER_ROUND)]
    _fault(own_stack, latency_ms=IMAGE_DELAY_MS, routes=["/images/:file"])
    start = time.monotonic()
    fired_after = None
    rounds = 0
    try:
        while time.monotonic() - start < MAX_DRILL_S:
            rounds += 1
            for page in pages:
                page.goto(page_url, wait_until="commit")
            for page in pages:
                page.wait_for_load_state("load", timeout=30_000)
                # The image's LCP entry comes with its first paint after `load`: hide the page
                # before that frame and the final LCP is the text's (seen once: 23 poor, 1 good).
                page.evaluate(PAINTED)
            for page in pages:
                page.goto("about:blank")  # the page is hidden: web-vitals reports the final LCP
            if _firing(own_stack, "WebVitalsPoorLCP"):
                fired_after = time.monotonic() - start
                break
    finally:
        requests.delete(own_stack.control_url + "/faults", timeout=5)
        for page in pages:
            page.close()
    poor = _value(own_stack, "web_vitals_reports_total", metric="LCP", rating="poor")
    good = _value(own_stack, "web_vitals_reports_total", metric="LCP", rating="good")
    assert fired_after is not None, f"WebVitalsPoorLCP not firing after {MAX_DRILL_S}s ({poor:g} poor, {good:g} good LCP reports)"
    # Measured by the browser, not posted by a script: every page of every round rated LCP poor.
    assert poor >= PAGES_PER_ROUND * rounds and good == 0, (poor, good, rounds)
    print(f"\nbrowser drill: WebVitalsPoorLCP firing after {fired_after:.1f}s; floor {floor:.1f}s; "
          f"ratio {fired_after / floor:.2f}; {rounds} rounds of {PAGES_PER_ROUND} pages; {poor:g} poor / {good:g} good "
          "LCP reports (under contention)")


def test_thrown_error_reaches_api_logs_and_error_tracking(own_stack: Any, browser: Any) -> None:
    before = _value(own_stack, "frontend_log_entries_total", level="error")
    page = browser.new_page()
    try:
        page.goto(own_stack.service_url + "/dashboard", wait_until="load")
        page.evaluate("setTimeout(() => { throw new Error('browser drill: thrown in the page') }, 0)")
        deadline = time.monotonic() + 15
        events: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not events:
            events = [e for e in requests.get(own_stack.telemetry_url + "/events", timeout=5).json()
                      if "browser drill: thrown in the page" in (e["exception_values"] or [])]
            time.sleep(0.2)
        stats = page.evaluate("logger.stats()")
    finally:
        page.close()
    assert len(events) == 1, events
    ev = events[0]
    assert (ev["platform"], ev["environment"], ev["release"], ev["exception_types"]) == (
        "javascript", "local", "moncheck-local", ["Error"])
    assert _value(own_stack, "frontend_log_entries_total", level="error") == before + 1
    assert (stats["sent"], stats["queued"], stats["failures"]) == (1, 0, 0), stats


def test_logger_queue_stays_bounded_while_api_logs_fails(own_stack: Any, browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(own_stack.service_url + "/dashboard", wait_until="load")
        failed_before = _value(own_stack, "http_requests_total", route="/api/logs", status_code="500")
        _fault(own_stack, error_ratio=1, routes=["/api/logs"])
        try:
            stats = page.evaluate("""async () => {
                for (let i = 0; i < 500; i++) {
                    logger.error('drill ' + i);
                    await new Promise(r => setTimeout(r, 4));
                }
                await new Promise(r => setTimeout(r, 300));
                return logger.stats();
            }""")
        finally:
            requests.delete(own_stack.control_url + "/faults", timeout=5)
        failed = _value(own_stack, "http_requests_total", route="/api/logs", status_code="500") - failed_before
        # The seed's logger would hold all 500 (and post ever larger batches); this one keeps the cap.
        assert stats["maxSeen"] <= stats["max"] == 100 and stats["queued"] == 100, stats
        assert stats["dropped"] == 400 and stats["sent"] == 0, stats
        # One flush in flight and back-off: a handful of failed posts, not one per error.
        assert 1 <= stats["failures"] == failed <= 5, (stats, failed)
        after = page.evaluate("async () => { logger.nextTry = 0; await logger.flush(); return logger.stats(); }")
        assert (after["sent"], after["queued"]) == (100, 0), after
    finally:
        page.close()
