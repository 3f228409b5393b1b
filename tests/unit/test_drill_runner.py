"""Runner pieces that need no stack: minimum times and notification matching."""

from __future__ import annotations

import pytest

from moncheck.drills.runner import Timings, _max_range, _note_for


def test_minimum_times() -> None:
    t = Timings(scrape_ms=250, eval_ms=250, group_wait_ms=500, group_interval_ms=5000,
                alerts={"A": {"for_ms": 2000, "window_ms": 5000}})
    assert t.min_fire_s("A") == pytest.approx(2.5)
    assert t.min_notify_s("A") == pytest.approx(3.0)
    assert t.min_resolve_s("A") == pytest.approx(5.25)


def test_window_follows_recording_rules() -> None:
    recorded = {"job:x:rate5m": 300_000}
    assert _max_range("job:x:rate5m > 1 and max_over_time(y[10m:1m]) > 0", recorded) == 600_000
    assert _max_range("job:x:rate5m > 1", recorded) == 300_000
    assert _max_range("up == 0", recorded) == 0


NOTES = [
    ("receiver-and-name", {"receiver": "r", "alertnames": ["A"], "status": "firing"}, "firing", True),
    ("other-receiver", {"receiver": "x", "alertnames": ["A"], "status": "firing"}, "firing", False),
    ("other-alert", {"receiver": "r", "alertnames": ["B"], "status": "firing"}, "firing", False),
    ("names-unknown", {"receiver": "r", "alertnames": [], "status": None}, "firing", True),
    ("resolved-not-firing", {"receiver": "r", "alertnames": ["A"], "status": "resolved"}, "firing", False),
    ("per-alert-status", {"receiver": "r", "alertnames": ["A", "B"], "status": "firing",
                          "alerts": [{"alertname": "A", "status": "resolved"}]}, "resolved", True),
]


@pytest.mark.parametrize("note,status,want", [n[1:] for n in NOTES], ids=[n[0] for n in NOTES])
def test_notification_matching(note: dict, status: str, want: bool) -> None:
    assert _note_for(note, "A", "r", status) is want
