"""A latency SLI's bucket bound is read from `le="X"` and from the float-tolerant `le=~"X(\\.0)?"`."""

import pytest

from moncheck.slo import promql


@pytest.mark.parametrize(
    "query, bound",
    [
        ('sum(rate(h_bucket{le="1"}[5m]))', "1"),
        ('sum(rate(h_bucket{le=~"0.5(\\\\.0)?"}[5m]))', "0.5"),
        ('sum(rate(h_bucket{le=~"1|3"}[5m]))', None),
        ('sum(rate(h_bucket{le!="1"}[5m]))', None),
        ("sum(rate(h_bucket[5m]))", None),
    ],
    ids=["equal", "float-tolerant-regex", "other-regex", "negative", "no-le"],
)
def test_le_bound(query: str, bound: str | None) -> None:
    assert promql.selectors(query)[0].le_bound() == bound
