"""Only this drill's alert instance counts (moncheck.drills.notifications)."""

from __future__ import annotations

from moncheck.drills.notifications import Instance, parse_time

FAULT = 1_000_000.0


def shadow(t: float, status: str, starts: str, fp: str, job: str = "api") -> dict:
    return {"integration": "shadow", "receiver": "slack-alerts", "received_at": t, "alertnames": ["HighResponseTime"],
            "alerts": [{"status": status, "fingerprint": fp, "startsAt": starts,
                        "labels": {"alertname": "HighResponseTime", "job": job, "severity": "warning"}}]}


def slack(t: float, name: str = "HighResponseTime") -> dict:
    return {"integration": "slack", "receiver": "slack-alerts", "received_at": t, "alertnames": [name]}


BEFORE = "1970-01-12T13:46:39.5Z"           # FAULT - 0.5s: the previous drill's instance
AFTER = "1970-01-12T13:46:47.123456789Z"    # FAULT + 7.12s, nanoseconds as Alertmanager writes them


def test_parse_time_keeps_sub_second_precision() -> None:
    assert parse_time(AFTER) == FAULT + 7.123456
    assert parse_time("0001-01-01T00:00:00Z") is None and parse_time("") is None


def test_an_earlier_instance_is_not_this_drills() -> None:
    # The bug of issue 11: a notification sent 1s after the fault, of an instance that started before it.
    records = [shadow(FAULT + 1.0, "firing", BEFORE, "old"), slack(FAULT + 1.01)]
    inst = Instance("HighResponseTime", {"job": "api"}, FAULT)
    assert inst.deliveries(records, "slack-alerts", "firing") == []
    assert inst.foreign == {"slack-alerts"}
    records += [shadow(FAULT + 7.5, "firing", AFTER, "new"), slack(FAULT + 7.51)]
    assert inst.deliveries(records, "slack-alerts", "firing") == [records[3]]
    assert inst.fingerprint == "new"


def test_resolved_must_be_the_same_instance() -> None:
    inst = Instance("HighResponseTime", {"job": "api"}, FAULT)
    records = [shadow(FAULT + 7.5, "firing", AFTER, "new"), slack(FAULT + 7.51),
               shadow(FAULT + 20, "resolved", BEFORE, "old"), slack(FAULT + 20.01),
               shadow(FAULT + 30, "resolved", AFTER, "new"), slack(FAULT + 30.02)]
    assert inst.deliveries(records, "slack-alerts", "firing") == [records[1]]
    assert inst.deliveries(records, "slack-alerts", "resolved") == [records[5]]


def test_labels_must_match_and_messages_pair_with_their_own_flush() -> None:
    inst = Instance("HighResponseTime", {"job": "api"}, FAULT)
    other_job = shadow(FAULT + 7.5, "firing", AFTER, "x", job="worker")
    assert inst.deliveries([other_job, slack(FAULT + 7.5)], "slack-alerts", "firing") == []
    # A message of another alert at the same moment is not taken for this one.
    records = [shadow(FAULT + 7.5, "firing", AFTER, "new"), slack(FAULT + 7.5, "TargetDown")]
    assert inst.deliveries(records, "slack-alerts", "firing") == []
