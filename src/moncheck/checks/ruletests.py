"""Checks of promtool rule test files (``tests/rules/**/*.test.yml``)."""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import pairwise
from typing import Any

import promql_parser as pp

from moncheck import durations
from moncheck.checks.base import Context
from moncheck.findings import Finding, warning
from moncheck.yamlpos import line_of

EXACT_FLOAT = "tests/exact-float"
# Aggregations whose float result depends on the order of the additions.
_SUMMING = frozenset({"sum", "avg", "stddev", "stdvar"})
_RATES = frozenset({"rate", "irate", "increase", "delta", "deriv", "avg_over_time", "sum_over_time"})
_MAX_SAMPLES = 100_000  # expanded per series; beyond, the series is not examined
_MAX_DEPTH = 8  # recording rules expanded into each other


def _dyadic(x: Fraction) -> bool:
    """A binary fraction (k / 2^n): sums of those are exact in a float, in any order."""
    d = x.denominator
    return d & (d - 1) == 0


class _Samples:
    """promtool's series notation (``0+90x60 100-2x3 _ stale 5x2``) as runs of exact numbers,
    expanded only over the window a case reads (generated tests hold series of 100,000 samples,
    and expanding all of them as fractions took seconds)."""

    def __init__(self) -> None:
        # (first index, count, start, step); start None: missing or stale samples
        self.runs: list[tuple[int, int, Fraction | None, Fraction]] = []
        self.size = 0

    def add(self, count: int, start: Fraction | None, step: Fraction = Fraction(0)) -> None:
        self.runs.append((self.size, count, start, step))
        self.size += count

    def window(self, lo: int, hi: int) -> list[Fraction]:
        """The present samples with index in [lo, hi], in order."""
        out: list[Fraction] = []
        for first, count, start, step in self.runs:
            a, b = max(lo, first), min(hi, first + count - 1)
            if start is not None and a <= b:
                out.extend(start + step * (i - first) for i in range(a, b + 1))
        return out


def _expand(values: str) -> _Samples | None:
    """The samples of a series' ``values``; None when it is not plain notation or too long."""
    out = _Samples()
    for tok in str(values).split():
        if tok in ("_", "stale"):
            out.add(1, None)
            continue
        if "x" in tok:
            head, _, n = tok.rpartition("x")
            if not n.isdigit():
                return None
            start, step = head, "0"
            for sign in ("+", "-"):
                i = head.find(sign, 1)
                if i > 0:
                    start, step = head[:i], head[i:]
                    break
            if start == "_":
                out.add(int(n) + 1, None)
            else:
                try:
                    out.add(int(n) + 1, Fraction(start), Fraction(step))
                except ValueError:
                    return None
        else:
            try:
                out.add(1, Fraction(tok))
            except ValueError:
                return None
        if out.size > _MAX_SAMPLES:
            return None
    return out


def _series(text: str) -> tuple[str | None, dict[str, str]] | None:
    try:
        e = pp.parse(text)
    except (ValueError, TypeError):
        return None
    if not isinstance(e, pp.VectorSelector):
        return None
    labels = {m.name: m.value for m in e.matchers.matchers}
    return e.name or labels.pop("__name__", None), labels


def _match(m: Any, value: str) -> bool:
    op = str(m.op)
    if op.endswith("NotEqual"):
        return value != m.value
    if op.endswith("Equal"):
        return value == m.value
    try:
        full = re.fullmatch(m.value, value) is not None
    except re.error:
        return True
    return full if op.endswith(".Re") else not full


def _matches(sel: pp.VectorSelector, name: str | None, labels: dict[str, str],
             filters: tuple[Any, ...]) -> bool:
    if sel.name and sel.name != name:
        return False
    if not all(_match(m, (name or "") if m.name == "__name__" else labels.get(m.name, ""))
               for m in sel.matchers.matchers):
        return False
    # outer matchers on a recorded series: only labels the input has (a rule may add others)
    return all(_match(m, labels[m.name]) for m in filters if m.name in labels)


class _Walker:
    """Rate selectors summed by an aggregation, with recording rules expanded."""

    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = records
        # (selector, range ms, grouping of the summing aggregation: ("by"|"without", labels),
        # matchers of the selectors of recorded series on the way, which filter the inputs)
        self.found: list[tuple[pp.VectorSelector, int, tuple[str, frozenset[str]], tuple[Any, ...]]] = []

    def walk(self, e: Any, summed: tuple[str, frozenset[str]] | None, depth: int = 0,
             filters: tuple[Any, ...] = ()) -> None:
        if isinstance(e, pp.Call):
            name = e.func.name
            if name == "round":
                return  # a rounded expression compares safely
            for a in e.args:
                if name in _RATES and isinstance(a, pp.MatrixSelector):
                    if summed is not None:
                        self.found.append((a.vector_selector, round(a.range.total_seconds() * 1000),
                                           summed, filters))
                else:
                    self.walk(a, summed, depth, filters)
        elif isinstance(e, pp.AggregateExpr):
            if str(e.op) in _SUMMING:
                mod = e.modifier
                kind = "without" if mod is not None and str(mod.type).endswith("Without") else "by"
                summed = (kind, frozenset(mod.labels if mod is not None else ()))
            self.walk(e.expr, summed, depth, filters)
        elif isinstance(e, pp.BinaryExpr):
            self.walk(e.lhs, summed, depth, filters)
            self.walk(e.rhs, summed, depth, filters)
        elif isinstance(e, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
            self.walk(e.expr, summed, depth, filters)
        elif isinstance(e, pp.VectorSelector) and e.name in self.records and depth < _MAX_DEPTH:
            # `record{check="a"}` compares only the recorded series with check="a"
            more = tuple(m for m in e.matchers.matchers if m.name != "__name__")
            for text in self.records[e.name]:
                try:
                    self.walk(pp.parse(text), summed, depth + 1, filters + more)
                except (ValueError, TypeError):
                    pass


def _changes(samples: _Samples, interval_ms: int, eval_ms: int, range_ms: int) -> tuple[bool, bool]:
    """(changes at all, changes by a per-second amount that is not a binary fraction) within
    the window ending at ``eval_ms``. Inexact rates summed with others depend on the order of
    the additions; adding an exact zero does not."""
    lo, hi = (eval_ms - range_ms) // interval_ms - 1, eval_ms // interval_ms
    window = samples.window(lo, hi)
    secs = Fraction(interval_ms, 1000)
    steps = [(b - a) / secs for a, b in pairwise(window) if b >= a]
    return any(steps), any(not _dyadic(x) for x in steps)


def _group_key(labels: dict[str, str], grouping: tuple[str, frozenset[str]]) -> tuple[tuple[str, str], ...]:
    kind, names = grouping
    keep = {k: v for k, v in labels.items() if (k in names) == (kind == "by")}
    return tuple(sorted(keep.items()))


def _ms(text: Any, default: int | None = None) -> int | None:
    try:
        return durations.parse_ms(str(text))
    except ValueError:
        return default


def tests_exact_float(ctx: Context) -> list[Finding]:
    """``exp_samples`` compared exactly to a sum (or average) of several series' rates that are
    not binary fractions: the result depends on the order of the additions, which varies from
    run to run, so the test fails at random (``exp 3E+00 got 3.0000000000000004E+00``)."""
    records = {name: [r.expr for r in rules] for name, rules in ctx.records.items()}
    out: list[Finding] = []
    for doc in ctx.inv.rule_tests:
        data = doc.data
        tests = data.get("tests") if isinstance(data, dict) else None
        for group in tests if isinstance(tests, list) else []:
            if isinstance(group, dict):
                out += _group(doc.path, group, records, _ms(data.get("evaluation_interval"), 60_000))
    return out


def _group(path: str, group: Any, records: dict[str, list[str]], default_ms: int | None) -> list[Finding]:
    interval = _ms(group.get("interval"), default_ms) or 60_000
    cases = group.get("promql_expr_test")
    if not isinstance(cases, list) or not any(isinstance(c, dict) and c.get("exp_samples") for c in cases):
        return []  # nothing compared exactly: the inputs need not be read
    inputs = []
    for s in group.get("input_series") or []:
        if isinstance(s, dict):
            series, values = _series(str(s.get("series", ""))), _expand(str(s.get("values", "")))
            if series is not None and values is not None:
                inputs.append((series, values))
    out: list[Finding] = []
    for case in group.get("promql_expr_test") or []:
        if not isinstance(case, dict) or not case.get("exp_samples"):
            continue
        eval_ms = _ms(case.get("eval_time"))
        try:
            tree = pp.parse(str(case.get("expr", "")))
        except (ValueError, TypeError):
            continue
        if eval_ms is None:
            continue
        w = _Walker(records)
        w.walk(tree, None)
        for sel, range_ms, grouping, filters in w.found:
            groups: dict[Any, list[tuple[bool, bool]]] = {}
            for (name, labels), v in inputs:
                if _matches(sel, name, labels, filters):
                    groups.setdefault(_group_key(labels, grouping), []).append(
                        _changes(v, interval, eval_ms, range_ms))
            summed = [g for g in groups.values() if sum(moves for moves, _ in g) > 1
                      and any(bad for _, bad in g)]
            if summed:
                hits = max(summed, key=len)
                line = line_of(case, "exp_samples", line_of(case))
                out.append(warning(
                    EXACT_FLOAT, path, line,
                    f"expression {case.get('expr')!r} at {case.get('eval_time')} sums the rates of "
                    f"{len(hits)} series of {sel.name or 'a selector'} that are not binary fractions: "
                    "the float result depends on the order of the additions and may differ from "
                    "exp_samples in its last digit from run to run",
                    "choose input series whose per-second rates are binary fractions (1.5, 0.25: "
                    "e.g. increments of 15 or 90 per 1m), or compare a rounded expression "
                    "(round(expr, 0.001))"))
                break
    return out
