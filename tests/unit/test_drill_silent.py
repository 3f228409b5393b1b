"""Silence assertions (`baseline` with a fault, `expect_silent`, `observe`), per-route group_wait
and the exact error ratio the within-budget drill relies on. No stack needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck.drills.runner import Timings, receiver_group_waits
from moncheck.drills.spec import DrillError, load_drills
from moncheck.service.faults import Faults

WITHIN = """\
name: within
description: d
baseline: true
duration: 3600
traffic: {users: 2}
fault: {at: 1, control: {error_ratio: 0.0005}}
expect_silent: [A, B]
observe:
  - query: max_over_time(x[$__fault])
    above: 0
    below: 0.001
"""

BAD = [
    ("baseline-without-duration", WITHIN.replace("duration: 3600\n", ""), 3, "needs `duration`"),
    ("baseline-with-expect", WITHIN + "expect:\n  - {alert: C, receivers: [], fire_within: 1}\n", 12,
     "use `expect_silent`"),
    ("silent-also-expected", WITHIN.replace("baseline: true\nduration: 3600\n", "")
     + "expect:\n  - {alert: A, receivers: [], fire_within: 1}\n", 5, "A is also expected to fire"),
    ("drill-without-expect", WITHIN.replace("baseline: true\n", ""), 1, "needs `expect`"),
    ("observe-without-bounds", WITHIN.replace("    above: 0\n    below: 0.001\n", ""), 9, "give `above`"),
    ("silent-not-a-list", WITHIN.replace("[A, B]", "A"), 7, "expect_silent"),
    ("silent-empty", WITHIN.replace("[A, B]", "[]"), 7, "expect_silent"),
]


def _repo(tmp_path: Path, text: str) -> Path:
    (tmp_path / "monitoring/drills").mkdir(parents=True)
    (tmp_path / "monitoring/drills/d.yml").write_text(text)
    return tmp_path


def test_within_budget_drill_loads(tmp_path: Path) -> None:
    [d] = load_drills(_repo(tmp_path, WITHIN))
    assert d.baseline and d.fault["control"] == {"error_ratio": 0.0005} and d.duration == 3600
    assert d.expect_silent == ["A", "B"]
    [o] = d.observe
    assert (o.query, o.above, o.below, o.line) == ("max_over_time(x[$__fault])", 0.0, 0.001, 9)


@pytest.mark.parametrize("text,line,msg", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_silence_named_with_line(tmp_path: Path, text: str, line: int, msg: str) -> None:
    with pytest.raises(DrillError) as e:
        load_drills(_repo(tmp_path, text))
    assert any(p.startswith(f"monitoring/drills/d.yml:{line}:") and msg in p for p in e.value.problems), \
        e.value.problems


def test_coverage_flags_misspelt_silent_alert(tmp_path: Path) -> None:
    from moncheck.checks.drills import check_drill_coverage
    (tmp_path / "monitoring/prometheus/rules").mkdir(parents=True)
    (tmp_path / "monitoring/prometheus/rules/a.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n")
    _repo(tmp_path, WITHIN.replace("[A, B]", "\n  - A\n  - Bee")
          + "untestable:\n  - alert: A\n    reason: a good long reason\n")
    texts = [f.text() for f in check_drill_coverage(tmp_path)]
    assert any("d.yml:9:" in t and "expect_silent names alert 'Bee'" in t for t in texts), texts
    assert not any("'A'" in t for t in texts), texts


ROUTE = {
    "receiver": "default", "group_wait": "500ms",
    "routes": [
        {"receiver": "pager", "matchers": ['severity="critical"'], "group_wait": "166ms", "continue": True},
        {"receiver": "chat", "matchers": ['severity=~"critical|high"'], "continue": True},
        {"receiver": "team", "match": {"team": "db"}, "group_wait": "1s",
         "routes": [{"receiver": "dba", "match_re": {"severity": "warn.*"}, "group_wait": "2s"}]},
        {"receiver": "never", "matchers": ['severity!="critical"']},
    ],
}
WAITS = [
    ("critical-continues", {"severity": "critical"}, {"pager": 166, "chat": 500}),
    ("high-stops-at-fallback", {"severity": "high"}, {"chat": 500, "never": 500}),
    ("nested-inherits", {"severity": "warning", "team": "db"}, {"dba": 2000}),
    ("nested-no-child-match", {"severity": "info", "team": "db"}, {"team": 1000}),
]


@pytest.mark.parametrize("labels,want", [w[1:] for w in WAITS], ids=[w[0] for w in WAITS])
def test_group_wait_of_the_route_reached_through(labels: dict, want: dict) -> None:
    # As Alertmanager: a parent whose children matched (even all with `continue`) delivers nothing.
    assert receiver_group_waits(ROUTE, labels, 500) == want


def test_delivery_floor_is_the_receivers_route_group_wait() -> None:
    t = Timings(250, 250, 500, 5000, {"A": {"for_ms": 2000, "window_ms": 0}}, ROUTE,
                {"A": [{"severity": "warning"}, {"severity": "critical"}]})
    assert t.group_wait_s("A", "pager", {"severity": "critical"}) == pytest.approx(0.166)
    assert t.group_wait_s("A", "chat", {"severity": "critical"}) == pytest.approx(0.5)
    # The expectation's labels pick the rule (SLO page vs ticket) whose labels route the alert.
    assert t.labels_for("A", {"severity": "critical"})["severity"] == "critical"


@pytest.mark.parametrize("ratio,calls,errors", [(0.0005, 10_000, 5), (0.03, 1000, 30), (0.5, 10, 5),
                                                (1.0, 7, 7), (0.0, 100, 0)],
                         ids=["within-budget", "fast-burn", "half", "all", "none"])
def test_error_ratio_is_exact(ratio: float, calls: int, errors: int) -> None:
    faults = Faults(set(), 1)
    try:
        faults.update({"error_ratio": ratio})
        got = sum(faults.request_error("/api/companies") for _ in range(calls))
        skipped = sum(faults.request_error("/health") for _ in range(calls))
    finally:
        faults.stop()
    assert (got, skipped) == (errors, 0)


class _Obs:
    def __init__(self, firing: list[str], notified: list[str]) -> None:
        self.firing, self.notified = firing, notified

    def alerts(self) -> list[dict]:
        return [{"state": "firing", "labels": {"alertname": n}} for n in self.firing]

    def new_notifications(self) -> list[dict]:
        return [{"receiver": "r", "alertnames": [n]} for n in self.notified]


class _Stack:
    def check_alive(self) -> None:
        pass


SILENCE = [
    ("quiet", [], [], [], [], []),
    ("other-alert-fails", ["X"], [], [], ["within-budget run fired: X"], []),
    ("silent-alert-fails", ["A"], [], [], ["expected silent but fired: A"], []),
    ("notification-counts", [], ["A"], [], ["expected silent but fired: A"], []),
    ("untestable-ignored", ["HostHighCpuUsage"], [], ["HostHighCpuUsage"], [], ["HostHighCpuUsage"]),
    ("silent-beats-ignore", ["A"], [], ["A"], ["expected silent but fired: A"], []),
]


@pytest.mark.parametrize("firing,notified,ignore,failures,ignored", [s[1:] for s in SILENCE],
                         ids=[s[0] for s in SILENCE])
def test_silence_assertion(tmp_path: Path, firing: list, notified: list, ignore: list, failures: list,
                           ignored: list) -> None:
    from moncheck.drills.runner import DrillResult, _baseline
    [d] = load_drills(_repo(tmp_path, WITHIN))
    res = DrillResult(d.name, d.path, baseline=True)
    _baseline(_Stack(), d, _Obs(firing, notified), res, 0.01, None, set(), set(ignore))
    assert (res.failures, res.ignored) == (failures, ignored)
