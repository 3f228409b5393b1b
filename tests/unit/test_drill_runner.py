"""Runner pieces that need no stack: windows, receivers' integrations, the floors of each delay."""

from __future__ import annotations

import pytest

from moncheck.drills.runner import AlertResult, _max_range, receiver_integrations


def test_window_follows_recording_rules() -> None:
    recorded = {"job:x:rate5m": 300_000}
    assert _max_range("job:x:rate5m > 1 and max_over_time(y[10m:1m]) > 0", recorded) == 600_000
    assert _max_range("job:x:rate5m > 1", recorded) == 300_000
    assert _max_range("up == 0", recorded) == 0


def test_receiver_integrations_with_alertmanager_defaults_and_without_the_shadow() -> None:
    am = {"receivers": [
        {"name": "r", "slack_configs": [{"api_url": "x"}], "email_configs": [{"send_resolved": True}],
         "webhook_configs": [{"url": "http://s/shadow/r", "send_resolved": True}]},
        {"name": "p", "pagerduty_configs": [{}], "webhook_configs": [{"url": "http://s/webhook/p"}]},
        {"name": "nobody"}]}
    assert receiver_integrations(am) == {"r": [("slack", False), ("email", True)],
                                         "p": [("pagerduty", True), ("webhook", True)], "nobody": []}


def _result(**kw: object) -> AlertResult:
    a = AlertResult("A", ["r"], fault_at=100.0, pipeline_floor_s=2.0, pipeline_bound_s=2.5,
                    delivery_floor_s={"r": 0.5}, detection_floor_s=1.0, detection_model="ratio over 5s")
    for k, v in kw.items():
        setattr(a, k, v)
    return a


CASES = [
    ("all-within", dict(active_at=101.2, fired_at=103.2, notified_at={"r": 103.8}), []),
    ("detection-below-floor", dict(active_at=100.4, fired_at=102.4, notified_at={"r": 103.0}),
     ["A: detection 0.40s is below its predicted floor 1.00s (ratio over 5s; less 0.00s of scrape time): "
      "the prediction does not hold for this rule and fault"]),
    ("pipeline-shorter-than-for", dict(active_at=101.2, fired_at=102.2, notified_at={"r": 103.0}),
     ["A: fired 1.00s after its condition held, less than `for` (2.00s): the condition time is wrong"]),
    ("pipeline-over-bound", dict(active_at=101.2, fired_at=104.2, notified_at={"r": 105.0}),
     ["A: fired 3.00s after its condition held, more than `for` + one evaluation + one scrape (2.50s): "
      "evaluations ran late (overloaded machine?)"]),
    ("delivery-before-group-wait", dict(active_at=101.2, fired_at=103.2, notified_at={"r": 103.3}),
     ["A: reached r 0.10s after firing, before its route's group_wait (0.50s): the notification is not "
      "this instance's first"]),
]


@pytest.mark.parametrize("fields,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_delay_against_its_floor(fields: dict, want: list[str]) -> None:
    a = _result(**fields)
    a.check_floors()
    assert a.failures == [w.replace("0.10s", f"{a.delivery_s['r']:.2f}s") for w in want]


def test_a_slow_scrape_lowers_the_detection_floor() -> None:
    # A sample is stamped when its scrape starts; a 0.7s scrape may show the fault 0.7s "early".
    a = _result(active_at=100.4, fired_at=102.4, notified_at={"r": 103.0})
    a.check_floors(scrape_skew_s=0.7)
    assert a.failures == []
    a = _result(active_at=100.2, fired_at=102.2, notified_at={"r": 103.0})
    a.check_floors(scrape_skew_s=0.7)
    assert a.failures == ["A: detection 0.20s is below its predicted floor 0.30s (ratio over 5s; less 0.70s "
                          "of scrape time): the prediction does not hold for this rule and fault"]


def test_delays_and_ratios_over_floors() -> None:
    a = _result(active_at=101.5, fired_at=103.5, notified_at={"r": 104.5}, cleared_at=110.0, resolved_at=112.0)
    assert (a.detection_s, a.pipeline_s, a.delivery_s, a.resolved_s) == (1.5, 2.0, {"r": 1.0}, 2.0)
    assert a.over_floor() == {"detection": 1.5, "pipeline": 1.0, "delivery": 2.0}


def test_unpredicted_detection_has_no_ratio() -> None:
    a = _result(active_at=101.5, fired_at=103.5, detection_floor_s=None)
    a.check_floors()
    assert a.over_floor()["detection"] is None and a.failures == []
