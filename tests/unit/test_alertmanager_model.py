"""The Alertmanager model: matchers, route walk, grouping, inhibition, routing-tests format.

Expected values follow Alertmanager 0.25's code (pkg/labels, dispatch/route.go, inhibit/inhibit.go);
test_alertmanager_differential.py checks the route walk against the real amtool.
"""

from __future__ import annotations

import pytest

from moncheck import alertmanager as am
from moncheck import yamlpos
from moncheck.alertmanager.matchers import Matcher, compile_regex, legacy


def M(name: str, op: str, value: str) -> Matcher:
    return Matcher.new(name, op, value)


# ------------------------------------------------------------------------------ matchers

PARSE = [
    ("quoted", 'severity="critical"', [M("severity", "=", "critical")]),
    ("unquoted", "severity=critical", [M("severity", "=", "critical")]),
    ("not-regex", 'alertname!~"A|B"', [M("alertname", "!~", "A|B")]),
    ("braces-comma-in-quotes", '{a="x,y", b=~"z.*"}', [M("a", "=", "x,y"), M("b", "=~", "z.*")]),
    ("escaped-quote", r'msg="say \"hi\""', [M("msg", "=", 'say "hi"')]),
    ("escaped-newline-backslash", r'm="a\nb\\c"', [M("m", "=", "a\nb\\c")]),
    ("spurious-escape-literal", r'm="a\.b"', [M("m", "=", "a\\.b")]),
    ("trailing-backslash-literal", "m=ab\\", [M("m", "=", "ab\\")]),
    ("spaces", "team != platform", [M("team", "!=", "platform")]),
    ("empty-value", 'team=""', [M("team", "=", "")]),
    ("empty-unquoted", "team=", [M("team", "=", "")]),
    ("colon-in-name", "a:b=c", [M("a:b", "=", "c")]),
    ("trailing-comma", "{a=b, }", [M("a", "=", "b")]),
    ("unquoted-value-with-spaces", "a = b c ", [M("a", "=", "b c")]),
    ("equals-in-value", "a==b", [M("a", "=", "=b")]),
]


@pytest.mark.parametrize(("text", "want"), [c[1:] for c in PARSE], ids=[c[0] for c in PARSE])
def test_parse_matchers(text: str, want: list[Matcher]) -> None:
    assert am.parse_matchers(text) == want


REJECT = [
    ("no-op", "severity"),
    ("no-name", '=~"x"'),
    ("bad-regex", 'a=~"("'),
    ("inner-quote", 'a="x"y"'),
    ("unterminated", 'a="x'),
    ("digit-name", "1a=b"),
    ("lookahead-is-not-re2", 'a=~"(?=x)"'),
    ("backreference-is-not-re2", r'a=~"(x)\1"'),
]


@pytest.mark.parametrize("text", [c[1] for c in REJECT], ids=[c[0] for c in REJECT])
def test_parse_matchers_rejects(text: str) -> None:
    with pytest.raises(am.MatcherError):
        am.parse_matchers(text)


MATCH = [
    ("regex-anchored", M("s", "=~", "crit"), {"s": "critical"}, False),
    ("regex-full", M("s", "=~", "crit.*"), {"s": "critical"}, True),
    ("alternation-anchored", M("s", "=~", "a|b"), {"s": "ab"}, False),
    ("not-regex", M("s", "!~", "crit.*"), {"s": "critical"}, False),
    ("absent-equals-empty", M("s", "=", ""), {}, True),
    ("absent-not-equal", M("s", "!=", "x"), {}, True),
    ("absent-vs-nonempty-regex", M("s", "=~", ".+"), {}, False),
    ("absent-matches-empty-regex", M("s", "=~", ".*"), {}, True),
    ("dollar-is-end-of-text", M("s", "=~", "a$"), {"s": "a\n"}, False),
    ("digit-class-is-ascii", M("s", "=~", "\\d"), {"s": "\u0663"}, False),
    ("posix-class", M("s", "=~", "[[:digit:]]+"), {"s": "42"}, True),
    ("quote-meta", M("s", "=~", "\\Qa.b\\E"), {"s": "axb"}, False),
    ("dot-no-newline", M("s", "=~", "a.b"), {"s": "a\nb"}, False),
]


@pytest.mark.parametrize(("m", "labels", "hit"), [c[1:] for c in MATCH], ids=[c[0] for c in MATCH])
def test_matcher(m: Matcher, labels: dict, hit: bool) -> None:
    assert m.matches(labels) is hit


def test_matcher_prints_alertmanager_syntax() -> None:
    (m,) = am.parse_matchers(r'msg="say \"hi\"\n"')
    assert str(m) == r'msg="say \"hi\"\n"' and am.parse_matchers(str(m)) == [m]


def test_legacy_match_re_is_anchored_and_validated() -> None:
    (m,) = legacy(None, {"severity": "warn"})
    assert not m.matches({"severity": "warning"})
    with pytest.raises(am.MatcherError):
        legacy({"bad-name": "x"}, None)
    with pytest.raises(am.MatcherError):
        legacy({"a": ["x"]}, None)
    assert legacy({"code": 500, "page": True}, None) == [M("code", "=", "500"), M("page", "=", "true")]
    with pytest.raises(am.MatcherError):
        compile_regex("(")


# ------------------------------------------------------------------------------ routes

TREE = """\
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: pager
      matchers: ['severity="critical"']
      continue: true
      group_wait: 10s
    - receiver: chat-critical
      match: {severity: critical}
      group_by: ['...']
    - receiver: chat
      match_re: {severity: "warning|info"}
      repeat_interval: 1h
      routes:
        - receiver: frontend
          matchers: [team=frontend]
        - matchers: [team=backend]
          group_by: [job]
    - receiver: not-db
      matchers: ['component!~"db.*"', 'severity="high"']
    - receiver: both-continue
      matchers: [team=x]
      continue: true
      routes:
        - {receiver: x1, matchers: [env=prod], continue: true}
        - {receiver: x2, matchers: [env=prod]}
receivers: [{name: default}, {name: pager}, {name: chat-critical}, {name: chat}, {name: frontend},
            {name: not-db}, {name: both-continue}, {name: x1}, {name: x2}]
"""


@pytest.fixture(scope="module")
def config() -> am.Config:
    return am.parse_config(yamlpos.loads(TREE, "am.yml"), "am.yml")


ROUTE_CASES = [
    ("critical-continue", {"severity": "critical"}, ["pager", "chat-critical"]),
    ("warning", {"severity": "warning"}, ["chat"]),
    ("nested-child", {"severity": "info", "team": "frontend"}, ["frontend"]),
    ("nested-child-inherits-receiver", {"severity": "info", "team": "backend"}, ["chat"]),
    ("regex-anchored", {"severity": "warningX"}, ["default"]),
    ("negative-regex", {"severity": "high", "component": "web"}, ["not-db"]),
    ("negative-regex-excluded", {"severity": "high", "component": "db1"}, ["default"]),
    ("no-labels", {}, ["default"]),
    ("parent-with-matching-children-delivers-nothing", {"team": "x", "env": "prod"}, ["x1", "x2"]),
    ("continue-parent-without-matching-child", {"team": "x"}, ["both-continue"]),
]


@pytest.mark.parametrize(("labels", "want"), [c[1:] for c in ROUTE_CASES], ids=[c[0] for c in ROUTE_CASES])
def test_route(config: am.Config, labels: dict, want: list) -> None:
    assert config.receivers_for(labels) == want


def test_inheritance_and_grouping(config: am.Config) -> None:
    root = config.route
    pager, chat_crit, chat = root.routes[0], root.routes[1], root.routes[2]
    backend = chat.routes[1]
    assert (root.group_wait_ms, root.group_interval_ms, root.repeat_interval_ms) == (30_000, 300_000, 14_400_000)
    assert pager.group_wait_ms == 10_000 and pager.group_interval_ms == 300_000
    assert chat.routes[0].repeat_interval_ms == 3_600_000  # inherited from `chat`
    assert pager.group_labels({"alertname": "A", "job": "j"}) == {"alertname": "A"}
    assert chat_crit.group_by_all and chat_crit.group_labels({"alertname": "A", "job": "j"}) == {"alertname": "A", "job": "j"}
    assert backend.group_labels({"alertname": "A", "job": "j"}) == {"job": "j"}
    assert backend.group_labels({"alertname": "A"}) == {}  # a missing group_by label is left out


BAD_CONFIGS = [
    ("no-route", "receivers: [{name: a}]\n", 1, "no routes"),
    ("root-without-receiver", "route: {group_by: [a]}\nreceivers: [{name: a}]\n", 1, "default receiver"),
    ("root-with-matchers", "route: {receiver: a, matchers: [x=y]}\nreceivers: [{name: a}]\n", 1, "must not have any matchers"),
    ("undefined-receiver", "route:\n  receiver: a\n  routes:\n    - receiver: b\nreceivers: [{name: a}]\n", 4, "undefined receiver 'b'"),
    ("bad-matcher", "route:\n  receiver: a\n  routes:\n    - matchers: ['x=~\"(\"']\nreceivers: [{name: a}]\n", 4, "invalid regex"),
    ("bad-duration", "route:\n  receiver: a\n  group_wait: 30m1h\nreceivers: [{name: a}]\n", 3, "largest to smallest"),
    ("zero-repeat", "route:\n  receiver: a\n  repeat_interval: 0s\nreceivers: [{name: a}]\n", 3, "cannot be zero"),
    ("group-by-mixed", "route:\n  receiver: a\n  group_by: ['...', job]\nreceivers: [{name: a}]\n", 3, "wildcard"),
    ("unknown-field", "route:\n  receiver: a\n  recevier: b\nreceivers: [{name: a}]\n", 3, "unknown field 'recevier'"),
    ("continue-at-root", "route:\n  receiver: a\n  continue: true\nreceivers: [{name: a}]\n", 3, "cannot have continue in root route"),
    ("mute-at-root", "route:\n  receiver: a\n  mute_time_intervals: [x]\nreceivers: [{name: a}]\n", 3,
     "root route must not have any mute time intervals"),
    ("undefined-interval", ("route:\n  receiver: a\n  routes:\n    - {receiver: a, mute_time_intervals: [nope]}\n"
                            "receivers: [{name: a}]\n"), 4, "undefined time interval 'nope' used in route"),
    ("duplicate-receiver", "route: {receiver: a}\nreceivers: [{name: a}, {name: a}]\n", 2, "'a' is not unique"),
]


@pytest.mark.parametrize(("text", "line", "msg"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_points_at_its_line(text: str, line: int, msg: str) -> None:
    # Each of these is also an amtool error (checked by hand with `amtool config routes test`).
    with pytest.raises(yamlpos.LoadError) as e:
        am.parse_config(yamlpos.loads(text, "am.yml"), "am.yml")
    assert (e.value.path, e.value.line) == ("am.yml", line) and msg in e.value.message


# ------------------------------------------------------------------------------ inhibition

RULES = """\
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity=~"warning|info"]
    equal: [alertname, job]
  - source_match: {alertname: TargetDown}
    target_match_re: {alertname: "Host.*"}
    equal: [instance]
  - source_matchers: [team="x"]
    target_matchers: [team="x"]
  - source_matchers: [kind="a"]
    target_matchers: [kind=~"a|b"]
"""


@pytest.fixture(scope="module")
def rules() -> list[am.InhibitRule]:
    data = yamlpos.loads(RULES, "am.yml")
    return am.parse_inhibit_rules(data["inhibit_rules"], "am.yml")


A, J = "alertname", "job"
INHIBIT = [
    ("critical-mutes-warning", {A: "A", J: "j", "severity": "critical"}, {A: "A", J: "j", "severity": "warning"}, True),
    ("equal-label-differs", {A: "A", J: "j", "severity": "critical"}, {A: "A", J: "k", "severity": "warning"}, False),
    ("equal-label-absent-on-both", {A: "A", "severity": "critical"}, {A: "A", "severity": "info"}, True),
    ("equal-label-absent-on-one", {A: "A", "severity": "critical"}, {A: "A", J: "j", "severity": "info"}, False),
    ("target-not-matched", {A: "A", J: "j", "severity": "critical"}, {A: "A", J: "j", "severity": "high"}, False),
    ("deprecated-match-and-match-re", {A: "TargetDown", "instance": "h:9100"}, {A: "HostHighCpu", "instance": "h:9100"}, True),
    ("deprecated-regex-anchored", {A: "TargetDown", "instance": "h"}, {A: "MyHostX", "instance": "h"}, False),
    ("two-sided-match-not-inhibited", {"team": "x", A: "A"}, {"team": "x", A: "B"}, False),
    ("alert-does-not-inhibit-itself", {"kind": "a"}, {"kind": "a"}, False),
    ("two-sided-target-by-one-sided-source", {"kind": "a", A: "S"}, {"kind": "b", A: "T"}, True),
]


@pytest.mark.parametrize(("source", "target", "want"), [c[1:] for c in INHIBIT], ids=[c[0] for c in INHIBIT])
def test_inhibited(rules: list, source: dict, target: dict, want: bool) -> None:
    assert am.inhibited(rules, source, target) is want


def test_muted_by_a_set_of_firing_alerts(rules: list) -> None:
    target = {A: "A", J: "j", "severity": "warning"}
    firing = [target, {A: "A", J: "k", "severity": "critical"}, {A: "A", J: "j", "severity": "critical"}]
    assert am.muted_by(rules, target, firing) == firing[2]
    assert am.muted_by(rules, target, firing[:2]) is None


def test_bad_rule_points_at_its_line() -> None:
    data = yamlpos.loads("inhibit_rules:\n  - source_matchers: [ok=\"1\"]\n  - source_matchers: ['x=~\"(\"']\n", "am.yml")
    with pytest.raises(yamlpos.LoadError) as e:
        am.parse_inhibit_rules(data["inhibit_rules"], "am.yml")
    assert (e.value.path, e.value.line) == ("am.yml", 3)


# ------------------------------------------------------------------------------ routing tests

ROUTING_TESTS = """\
tests:
  - name: critical pages
    labels: {severity: critical}
    receivers: [pager, chat-critical]
  - name: wrong order
    labels: {severity: critical}
    receivers: [chat-critical, pager]
  - labels: {severity: info}
    receivers: [chat]
inhibit_tests:
  - name: critical mutes warning
    inhibit:
      source: {alertname: A, severity: critical}
      target: {alertname: A, severity: warning}
      inhibited: true
  - name: wrong inhibition
    inhibit:
      source: {alertname: A, severity: critical}
      target: {alertname: B, severity: warning}
      inhibited: true
  - name: malformed
    inhibit: {source: {a: b}}
"""


def test_routing_tests_run_on_the_model(config: am.Config, rules: list) -> None:
    cfg = am.Config(config.path, config.route, rules, config.receivers)
    cases = am.parse_routing_tests(yamlpos.loads(ROUTING_TESTS, "rt.yml"), "rt.yml")
    found = [f for c in cases if (f := am.run_case(c, cfg, "rt.yml")) is not None]
    assert [(f.check, f.path, f.line) for f in found] == [
        ("amtool/routing-tests", "rt.yml", 5), ("amtool/routing-tests", "rt.yml", 8),
        ("amtool/routing-tests", "rt.yml", 16), ("amtool/routing-tests", "rt.yml", 21),
    ]
    assert found[0].message == ('routing test "wrong order": labels {\'severity\': \'critical\'} route to '
                                "['pager', 'chat-critical'], expected ['chat-critical', 'pager']")
    assert found[1].message == 'routing test "tests[3]": each test needs a `name`'
    assert "is not inhibited" in found[2].message and "needs `source` and `target`" in found[3].message


@pytest.mark.parametrize(
    ("text", "line"),
    [("- {name: a, labels: {a: b}, receivers: [x]}\n", 1), ("cases: []\n", 1), ("tests: []\nextra: 1\n", 2),
     ("tests: {a: b}\n", 1)],
    ids=["list-form", "no-tests-key", "unknown-key", "tests-not-a-list"],
)
def test_routing_tests_layout_errors_are_located(text: str, line: int) -> None:
    with pytest.raises(yamlpos.LoadError) as e:
        am.parse_routing_tests(yamlpos.loads(text, "rt.yml"), "rt.yml")
    assert (e.value.path, e.value.line) == ("rt.yml", line)


def test_absurdly_nested_regex_is_a_matcher_error_not_a_crash() -> None:
    with pytest.raises(am.MatcherError, match="invalid regex"):
        am.parse_matchers('a=~"' + "(" * 5000 + "a" + ")" * 5000 + '"')


@pytest.mark.parametrize(("pattern", "value", "hit"), [
    ("a{,2}", "a{,2}", True), ("a{,2}", "aa", False), ("a{2}", "aa", True), ("a{1,}", "aaa", True), ("x{", "x{", True),
], ids=["brace-comma-literal", "brace-comma-not-repeat", "repeat", "repeat-open", "lone-brace"])
def test_braces_read_as_re2_does(pattern: str, value: str, hit: bool) -> None:
    assert (compile_regex(pattern).fullmatch(value) is not None) is hit


def test_repeat_count_above_re2s_limit_is_an_error() -> None:
    with pytest.raises(am.MatcherError, match="repeat count"):
        compile_regex("a{1001}")


def test_defined_time_intervals_are_accepted() -> None:
    text = ("time_intervals: [{name: nights, time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]}]\n"
            "route:\n  receiver: a\n  routes:\n    - {receiver: a, matchers: [x=y], active_time_intervals: [nights]}\n"
            "receivers: [{name: a}]\n")
    cfg = am.parse_config(yamlpos.loads(text, "am.yml"), "am.yml")
    assert cfg.route.routes[0].active_time_intervals == ("nights",)
