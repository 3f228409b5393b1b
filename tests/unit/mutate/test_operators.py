"""Each mutation operator: the exact mutated fragment and whole expression it produces."""

from __future__ import annotations

import pytest

from moncheck.inventory import parse_rules
from moncheck.mutate import operators as ops
from moncheck.mutate.mutants import for_mutants
from moncheck.yamlpos import loads


def mutants(expr: str, operator: str, recording: bool = False) -> list[tuple[str, str, str]]:
    return [(m.old, m.new, m.expr) for m in ops.mutate_expr(expr, recording=recording)
            if m.operator == operator]


CASES = [
    ("threshold", "x > 0.05", [
        ("x > 0.05", "x > 0.025", "x > 0.025"),
        ("x > 0.05", "x > 0.1", "x > 0.1"),
        ("x > 0.05", "x > 0.005", "x > 0.005"),
        ("x > 0.05", "x > 0.5", "x > 0.5"),
    ]),
    ("threshold", "5 < x", [
        ("5 < x", "2.5 < x", "2.5 < x"), ("5 < x", "10 < x", "10 < x"),
        ("5 < x", "0.5 < x", "0.5 < x"), ("5 < x", "50 < x", "50 < x"),
    ]),
    ("threshold", "count by (job) (up == 0) > 0", []),  # x0.5 of 0 is 0: no mutant
    ("comparison", "x > 1", [("x > 1", "x >= 1", "x >= 1"), ("x > 1", "x < 1", "x < 1")]),
    ("comparison", "x <= 1", [("x <= 1", "x < 1", "x < 1"), ("x <= 1", "x >= 1", "x >= 1")]),
    ("comparison", "x == 0", [("x == 0", "x != 0", "x != 0")]),
    ("range", "rate(x[5m]) > 1", [
        ("x[5m]", "x[2m30s]", "rate(x[2m30s]) > 1"), ("x[5m]", "x[10m]", "rate(x[10m]) > 1"),
    ]),
    ("range", "max_over_time(rate(x[1m])[30m:1m])", [
        ("rate(x[1m])[30m:1m]", "rate(x[1m])[15m:1m]", "max_over_time(rate(x[1m])[15m:1m])"),
        ("rate(x[1m])[30m:1m]", "rate(x[1m])[1h:1m]", "max_over_time(rate(x[1m])[1h:1m])"),
        ("x[1m]", "x[30s]", "max_over_time(rate(x[30s])[30m:1m])"),
        ("x[1m]", "x[2m]", "max_over_time(rate(x[2m])[30m:1m])"),
    ]),
    ("binop", "a > 1 and on (job) b", [
        ("a > 1 and on (job) b", "a > 1 or on (job) b", "a > 1 or on (job) b"),
        ("a > 1 and on (job) b", "a > 1", "a > 1"),
        ("a > 1 and on (job) b", "b", "b"),
    ]),
    ("binop", "a unless b", [("a unless b", "a", "a")]),
    ("binop", "a or b", [("a or b", "a and b", "a and b")]),
    ("matcher", 'x{a="1", b=~"2|3"}', [
        ('x{a="1", b=~"2|3"}', 'x{b=~"2|3"}', 'x{b=~"2|3"}'),
        ('x{a="1", b=~"2|3"}', 'x{a!="1", b=~"2|3"}', 'x{a!="1", b=~"2|3"}'),
        ('x{a="1", b=~"2|3"}', 'x{a="1"}', 'x{a="1"}'),
        ('x{a="1", b=~"2|3"}', 'x{a="1", b!~"2|3"}', 'x{a="1", b!~"2|3"}'),
    ]),
    ("matcher", 'rate(x{a!="1"}[5m])', [
        ('x{a!="1"}[5m]', "x[5m]", "rate(x[5m])"),
        ('x{a!="1"}[5m]', 'x{a="1"}[5m]', 'rate(x{a="1"}[5m])'),
    ]),
    ("grouping", "sum by (job, route) (x)", [
        ("sum by (job, route) (x)", "sum by (route) (x)", "sum by (route) (x)"),
        ("sum by (job, route) (x)", "sum by (job) (x)", "sum by (job) (x)"),
        ("sum by (job, route) (x)", "sum by (job, route, instance) (x)", "sum by (job, route, instance) (x)"),
    ]),
    ("grouping", "a / on (job) b", [("a / on (job) b", "a / on () b", "a / on () b")]),
    ("function", "sum by (job) (rate(x[5m]))", [
        ("sum by (job) (rate(x[5m]))", "avg by (job) (rate(x[5m]))", "avg by (job) (rate(x[5m]))"),
        ("rate(x[5m])", "increase(x[5m])", "sum by (job) (increase(x[5m]))"),
        ("rate(x[5m])", "irate(x[5m])", "sum by (job) (irate(x[5m]))"),
    ]),
    ("function", "max(x) > min(y)", [
        ("max (x)", "min (x)", "min (x) > min (y)"), ("min (y)", "max (y)", "max (x) > max (y)"),
    ]),
    ("offset", "rate(x[5m] offset 1h)", [("x[5m] offset 1h", "x[5m]", "rate(x[5m])")]),
    ("offset", "x offset 1d", [("x offset 1d", "x", "x")]),
]


@pytest.mark.parametrize(("operator", "expr", "expected"), CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_operator(operator: str, expr: str, expected: list[tuple[str, str, str]]) -> None:
    assert mutants(expr, operator) == expected


def test_recording_rule_ranges_are_record_range() -> None:
    got = ops.mutate_expr("sum(rate(x[5m]))", recording=True)
    assert [(m.operator, m.new) for m in got if "x[" in m.new and m.old == "x[5m]"] == [
        ("record-range", "x[2m30s]"), ("record-range", "x[10m]")]
    assert not [m for m in got if m.operator == "range"]


def test_every_mutant_is_valid_promql_and_differs() -> None:
    import promql_parser as pp

    expr = ('sum by (job) (rate(http_requests_total{status_code=~"5.."}[5m])) / sum by (job) '
            '(rate(http_requests_total[5m])) > 0.05 and on (job) sum by (job) (up) > 0')
    got = ops.mutate_expr(expr)
    assert len({m.expr for m in got}) == len(got)
    for m in got:
        pp.parse(m.expr)
        assert m.expr != expr


def _rule(text: str):  # type: ignore[no-untyped-def]
    return parse_rules("r.yml", loads(text, "r.yml")).rules[0]


def test_for_operator() -> None:
    rule = _rule("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x > 1\n    for: 5m\n"
                 "    keep_firing_for: 1m\n")
    got = [(m.operator, m.old, m.new, m.key, m.value, m.line) for m in for_mutants(rule)]
    assert got == [
        ("for", "for: 5m", "no for", "for", None, 6),
        ("for", "for: 5m", "for: 2m30s", "for", "2m30s", 6),
        ("for", "for: 5m", "for: 10m", "for", "10m", 6),
        ("for", "keep_firing_for: 1m", "no keep_firing_for", "keep_firing_for", None, 7),
        ("for", "keep_firing_for: 1m", "keep_firing_for: 30s", "keep_firing_for", "30s", 7),
        ("for", "keep_firing_for: 1m", "keep_firing_for: 2m", "keep_firing_for", "2m", 7),
    ]


def test_mutant_apply_changes_only_its_rule() -> None:
    import yaml

    text = ("groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(x)\n  - alert: A\n"
            "    expr: r > 1\n    for: 5m\n")
    rule = parse_rules("r.yml", loads(text, "r.yml")).rules[1]
    m = for_mutants(rule)[0]
    plain = yaml.safe_load(text)
    out = m.apply(plain)
    assert out["groups"][0]["rules"] == [{"record": "r", "expr": "sum(x)"}, {"alert": "A", "expr": "r > 1"}]
    assert plain["groups"][0]["rules"][1]["for"] == "5m"  # the original is untouched
