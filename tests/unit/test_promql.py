from __future__ import annotations

import pytest

from moncheck.promql import OPEN, Labels, analyze, result_labels, strip_grafana_vars

BASE = Labels(frozenset({"job", "instance", "route", "le"}))


def lab(_name: str) -> Labels:
    return BASE


# (id, expression, label, expected has(): True / False / None)
LABEL_CASES = [
    ("selector", "http_requests_total", "route", True),
    ("sum-drops-all", "sum(rate(x[5m]))", "job", False),
    ("sum-by-keeps", "sum by (job) (rate(x[5m]))", "job", True),
    ("sum-by-drops-other", "sum by (job) (rate(x[5m]))", "route", False),
    ("without", "sum without (instance) (x)", "instance", False),
    ("without-keeps", "sum without (instance) (x)", "route", True),
    ("topk-keeps", "topk(3, x)", "route", True),
    ("count-values-adds", 'count_values("version", x)', "version", True),
    ("label-replace-adds", 'label_replace(x, "svc", "$1", "job", "(.*)")', "svc", True),
    ("quantile-drops-le", "histogram_quantile(0.9, x)", "le", False),
    ("scalar-compare", "sum by (job) (x) > 1", "job", True),
    ("on-keeps-only", "x / on (job) y", "route", False),
    ("ignoring", "x / ignoring (route) y", "route", False),
    ("group-left-adds", "x * on (job) group_left (owner) y", "owner", True),
    ("or-union", "sum by (job) (x) or sum by (route) (y)", "route", True),
    ("absent-eq", 'absent(up{job="api"})', "job", True),
    ("absent-other", 'absent(up{job="api"})', "instance", False),
    ("vector", "vector(1)", "job", False),
]


@pytest.mark.parametrize("expr,label,want", [c[1:] for c in LABEL_CASES], ids=[c[0] for c in LABEL_CASES])
def test_result_labels(expr, label, want) -> None:
    got = result_labels(expr, lab)
    assert got is not None
    assert got.has(label) is want


def test_unknown_inputs_stay_unknown() -> None:
    got = result_labels("sum without (instance) (x)", lambda _n: OPEN)
    assert got is not None and got.has("job") is None and got.has("instance") is False


def test_parse_error_and_cache() -> None:
    a = analyze("rate(x[5m]")
    assert not a.ok and a.error
    assert analyze("up == 0") is analyze("up == 0")
    assert result_labels("rate(x[5m]", lab) is None


def test_selectors_and_functions() -> None:
    a = analyze('sum(rate(a_total{x="1", y=~"2"}[5m])) / sum(b) + on() vector(1) + {__name__="c"}')
    names = [(s.name, s.range_func, s.is_range) for s in a.selectors]
    assert names == [("a_total", "rate", True), ("b", None, False), ("c", None, False)]
    assert [(m.name, m.op, m.value) for m in a.selectors[0].matchers] == [("x", "=", "1"), ("y", "=~", "2")]


QUANTILE_CASES = [
    ("plain", "histogram_quantile(0.9, rate(x_bucket[5m]))", True),
    ("by-le", "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))", True),
    ("by-no-le", "histogram_quantile(0.9, sum by (job) (rate(x_bucket[5m])))", False),
    ("sum-all", "histogram_quantile(0.9, sum(rate(x_bucket[5m])))", False),
    ("without-other", "histogram_quantile(0.9, sum without (instance) (rate(x_bucket[5m])))", True),
]


@pytest.mark.parametrize("expr,kept", [c[1:] for c in QUANTILE_CASES], ids=[c[0] for c in QUANTILE_CASES])
def test_quantile_le(expr, kept) -> None:
    (q,) = analyze(expr).quantiles
    assert q.le_kept is kept
    assert [s.name for s in q.selectors] == ["x_bucket"]


GRAFANA_CASES = [
    ("rate-interval", "rate(x[$__rate_interval])", "rate(x[5m])"),
    ("braced", 'x{job="${job}"}', 'x{job="var"}'),
    ("plain-var", 'x{job=~"$job"}', 'x{job=~"var"}'),
    ("range-var", "rate(x[$window])", "rate(x[5m])"),
    ("subquery", "max_over_time(x[$__range:$__interval])", "max_over_time(x[5m:])"),
    ("subquery-of-aggregation", "increase(sum(x) by (k)[$__interval:])", "increase(sum(x) by (k)[5m:])"),
    ("negative-offset", "increase(x[$__interval:] offset -$__interval)", "increase(x[5m:] offset 5m)"),
    ("number-argument", "topk($k, sum by (pod) (x))", "topk(1, sum by (pod) (x))"),
    ("operator", 'x{a="$a"} $op on (entity) y', 'x{a="var"}  and on (entity) y'),
]


@pytest.mark.parametrize("expr,want", [c[1:] for c in GRAFANA_CASES], ids=[c[0] for c in GRAFANA_CASES])
def test_strip_grafana_vars(expr, want) -> None:
    assert strip_grafana_vars(expr) == want
    assert analyze(want).ok
