"""Drill files: validation with file:line, and the drills/coverage check."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck.drills.spec import DrillError, load_drills, run_order
from moncheck.drills.dashboards import substitute
from moncheck.drills.locust_proc import LoadError, check_host

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
name: ok
description: d
traffic: {users: 2}
fault: {at: 1, control: {error_ratio: 0.5}}
expect:
  - alert: A
    receivers: [slack-alerts]
    fire_within: 60
"""

BAD = [
    ("missing-traffic", "name: x\ndescription: d\n", 1, "'traffic' is a required property"),
    ("bad-users", "name: x\ndescription: d\ntraffic:\n  users: 0\n", 4, "users"),
    ("bad-expect", GOOD.replace("    fire_within: 60\n", ""), 6, "fire_within"),
    ("unknown-key", GOOD + "colour: red\n", 1, "colour"),
    ("yaml-error", "name: [x\n", 2, "invalid YAML"),
    # The crossing time is predicted from the rule and the drill (moncheck.drills.predict).
    ("crosses-after-is-gone", GOOD + "    crosses_after: 30\n", 6, "'crosses_after' was unexpected"),
]


def _repo(tmp_path: Path, text: str) -> Path:
    (tmp_path / "monitoring/drills").mkdir(parents=True)
    (tmp_path / "monitoring/drills/d.yml").write_text(text)
    return tmp_path


def test_good_drill_loads(tmp_path: Path) -> None:
    [d] = load_drills(_repo(tmp_path, GOOD))
    assert d.name == "ok" and d.expect[0].alert == "A" and d.expect[0].resolves
    assert d.fault["control"] == {"error_ratio": 0.5} and d.traffic.classes == {"ApiUser": 1}


@pytest.mark.parametrize("text,line,msg", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_drill_named_with_line(tmp_path: Path, text: str, line: int, msg: str) -> None:
    with pytest.raises(DrillError) as e:
        load_drills(_repo(tmp_path, text))
    assert any(p.startswith(f"monitoring/drills/d.yml:{line}:") and msg in p for p in e.value.problems), e.value.problems


def test_repository_drills_are_valid() -> None:
    drills = load_drills(REPO)
    assert any(d.baseline for d in drills)
    assert all(d.expect for d in drills if not d.baseline)


@pytest.mark.parametrize("url,ok", [("http://127.0.0.1:8080", True), ("http://[::1]:80", True),
                                    ("http://localhost:1", True), ("http://10.0.0.1:80", False),
                                    ("https://example.com", False)],
                         ids=["v4-loopback", "v6-loopback", "localhost", "private", "remote"])
def test_loopback_only(url: str, ok: bool) -> None:
    if ok:
        check_host(url, allow_remote=False)
    else:
        with pytest.raises(LoadError, match="only loopback"):
            check_host(url, allow_remote=False)
        check_host(url, allow_remote=True)


@pytest.mark.parametrize("expr,want", [
    ('rate(x{job=~"$job"}[$__rate_interval])', 'rate(x{job=~".*"}[1s])'),
    ('sum(increase(x{job="$job"}[$__range]))', 'sum(increase(x{job=~".*"}[1m]))'),
    ('rate(x[${__interval}])', 'rate(x[250ms])'),
], ids=["rate-interval", "range-and-equal-var", "braced"])
def test_dashboard_substitution(expr: str, want: str) -> None:
    assert substitute(expr, 250, 60_000) == want


def test_coverage_of_repository() -> None:
    from moncheck.checks.drills import check_drill_coverage
    findings = check_drill_coverage(REPO)
    # Every finding names an alert by file and line; none are about malformed entries.
    assert all(f.check == "drills/coverage" and f.line >= 1 for f in findings)


def test_coverage_flags_missing_and_unreasoned(tmp_path: Path) -> None:
    from moncheck.checks.drills import check_drill_coverage
    (tmp_path / "monitoring/prometheus/rules").mkdir(parents=True)
    (tmp_path / "monitoring/prometheus/rules/a.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: Drilled\n        expr: up == 0\n"
        "      - alert: Forgotten\n        expr: up == 0\n      - alert: Excused\n        expr: up == 0\n")
    _repo(tmp_path, GOOD.replace("alert: A", "alert: Drilled")
          + "untestable:\n  - alert: Excused\n    reason: x\n  - alert: Ghost\n    reason: a good long reason\n")
    texts = [f.text() for f in check_drill_coverage(tmp_path)]
    assert any("a.yml:6:" in t and "Forgotten has no fire drill" in t for t in texts), texts
    assert any("d.yml:10:" in t and "'Excused' needs a reason" in t for t in texts), texts
    assert any("d.yml:12:" in t and "'Ghost', which no rule defines" in t for t in texts), texts
    assert not any("Drilled" in t for t in texts)


def test_run_order_baselines_then_runs_first_then_names(tmp_path: Path) -> None:
    (tmp_path / "monitoring/drills").mkdir(parents=True)
    files = {
        "a.yml": GOOD.replace("name: ok", "name: a"),
        "b.yml": "name: b\ndescription: d\nbaseline: true\nduration: 60\ntraffic: {users: 1}\n",
        "c.yml": GOOD.replace("name: ok", "name: c") + "runs_first: true\n",
    }
    for name, text in files.items():
        (tmp_path / "monitoring/drills" / name).write_text(text)
    assert [d.name for d in run_order(load_drills(tmp_path))] == ["b", "c", "a"]
