"""Inhibition evaluated in Python, following Alertmanager's semantics."""

from __future__ import annotations

import pytest

from moncheck import yamlpos
from moncheck.tools.inhibit import Matcher, inhibited, parse_matchers, parse_rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('severity="critical"', [Matcher("severity", "=", "critical")]),
        ("severity=critical", [Matcher("severity", "=", "critical")]),
        ('alertname!~"A|B"', [Matcher("alertname", "!~", "A|B")]),
        ('{a="x,y", b=~"z.*"}', [Matcher("a", "=", "x,y"), Matcher("b", "=~", "z.*")]),
        (r'msg="say \"hi\""', [Matcher("msg", "=", 'say "hi"')]),
        ("team != platform", [Matcher("team", "!=", "platform")]),
    ],
    ids=["quoted", "unquoted", "not-regex", "braces-and-comma-in-quotes", "escaped-quote", "spaces"],
)
def test_parse_matchers(text: str, expected: list[Matcher]) -> None:
    assert parse_matchers(text) == expected


@pytest.mark.parametrize("text", ["severity", '=~"x"', 'a=~"("'], ids=["no-op", "no-name", "bad-regex"])
def test_parse_matchers_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_matchers(text)


@pytest.mark.parametrize(
    ("matcher", "labels", "hit"),
    [
        (Matcher("s", "=~", "crit"), {"s": "critical"}, False),  # anchored: no partial match
        (Matcher("s", "=~", "crit.*"), {"s": "critical"}, True),
        (Matcher("s", "!~", "crit.*"), {"s": "critical"}, False),
        (Matcher("s", "=", ""), {}, True),  # absent label == empty value
        (Matcher("s", "!=", "x"), {}, True),
        (Matcher("s", "=~", ".+"), {}, False),
    ],
    ids=["regex-anchored", "regex-full", "not-regex", "absent-equals-empty", "absent-not-equal", "absent-vs-nonempty-regex"],
)
def test_matcher(matcher: Matcher, labels: dict, hit: bool) -> None:
    assert matcher.matches(labels) is hit


CONFIG = """\
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity=~"warning|info"]
    equal: [alertname, job]
  - source_match: {alertname: TargetDown}
    target_match_re: {alertname: "Host.*"}
    equal: [instance]
  - source_matchers: [team="x"]
    target_matchers: [team="x"]
"""


@pytest.fixture
def rules() -> list:
    return parse_rules(yamlpos.loads(CONFIG, "am.yml"), "am.yml")


CASES = [
    ("critical-mutes-warning", {"alertname": "A", "job": "j", "severity": "critical"}, {"alertname": "A", "job": "j", "severity": "warning"}, True),
    ("equal-label-differs", {"alertname": "A", "job": "j", "severity": "critical"}, {"alertname": "A", "job": "k", "severity": "warning"}, False),
    ("equal-label-absent-on-both", {"alertname": "A", "severity": "critical"}, {"alertname": "A", "severity": "info"}, True),
    ("target-not-matched", {"alertname": "A", "job": "j", "severity": "critical"}, {"alertname": "A", "job": "j", "severity": "high"}, False),
    ("deprecated-match-and-match-re", {"alertname": "TargetDown", "instance": "h:9100"}, {"alertname": "HostHighCpuUsage", "instance": "h:9100"}, True),
    ("deprecated-regex-anchored", {"alertname": "TargetDown", "instance": "h"}, {"alertname": "MyHostX", "instance": "h"}, False),
    ("two-sided-match-not-self-inhibited", {"team": "x", "alertname": "A"}, {"team": "x", "alertname": "B"}, False),
]


@pytest.mark.parametrize(("source", "target", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_inhibited(rules: list, source: dict, target: dict, expected: bool) -> None:
    assert inhibited(rules, source, target) is expected


def test_bad_rule_points_at_its_line() -> None:
    data = yamlpos.loads("inhibit_rules:\n  - source_matchers: [ok=\"1\"]\n  - source_matchers: ['x=~\"(\"']\n", "am.yml")
    with pytest.raises(yamlpos.LoadError) as e:
        parse_rules(data, "am.yml")
    assert (e.value.path, e.value.line) == ("am.yml", 3)
