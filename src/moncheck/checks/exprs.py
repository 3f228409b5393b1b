"""Expression bugs an expert's offline linter catches: joins that can never match, counts
compared with zero, alerts without a condition, needless regexes, raw ``$value`` of rates.

Each function is one check id; each stays silent where the analysis cannot be sure (labels of
uncataloged metrics are unknown, so only aggregations and cataloged or recorded series close a
label set).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import promql_parser as pp

from moncheck.checks.base import Context
from moncheck.findings import Finding, error, warning
from moncheck.inventory import Rule
from moncheck.promql import Labels, _is_scalar, _unparen, analyze, labels_of_node

_ARITH_CMP = {"+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<="}
_FILTERS = {"and", "unless"}
_COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}


def _binaries(node: Any) -> Iterator[Any]:
    """Every binary expression under ``node`` (outermost first)."""
    node = _unparen(node)
    if isinstance(node, pp.BinaryExpr):
        yield node
        yield from _binaries(node.lhs)
        yield from _binaries(node.rhs)
    elif isinstance(node, pp.Call):
        for a in node.args:
            yield from _binaries(a)
    elif isinstance(node, pp.AggregateExpr):
        yield from _binaries(node.expr)
    elif isinstance(node, (pp.UnaryExpr, pp.SubqueryExpr)):
        yield from _binaries(node.expr)


def _rule_binaries(ctx: Context) -> Iterator[tuple[Rule, list[Any]]]:
    """(rule, its binary expressions) for every rule whose expression parses."""
    for r in ctx.inv.rules:
        a = analyze(r.expr)
        if a.ok:
            yield r, list(_binaries(a.ast))


def _what(r: Rule) -> str:
    return f"{r.kind} {r.name!r}"


# ----------------------------------------------------------------------- promql/impossible-match


def never_matching_label(node: Any, labels_of: Callable[[str], Labels]) -> tuple[str, str, Labels, Labels] | None:
    """(label, side holding it, left labels, right labels) when the two sides of a vector-vector
    binary expression can never have equal matching labels; None when they may."""
    op = str(node.op)
    if op not in _ARITH_CMP | _FILTERS or _is_scalar(node.lhs) or _is_scalar(node.rhs):
        return None
    lhs, rhs = labels_of_node(node.lhs, labels_of), labels_of_node(node.rhs, labels_of)
    matching = getattr(node.modifier, "matching", None) if node.modifier is not None else None
    if matching is not None and matching.type == pp.LabelModifierType.Include:
        candidates = set(matching.labels)
    else:
        ignored = set(matching.labels) if matching is not None else set()
        candidates = (set(lhs.known) | set(rhs.known)) - ignored
    for label in sorted(candidates - {"__name__"}):
        left, right = lhs.has(label), rhs.has(label)
        # A label present on one side and certainly absent (empty) on the other never matches.
        if left is True and right is False:
            return label, "left", lhs, rhs
        if right is True and left is False:
            return label, "right", lhs, rhs
    return None


def _show(labels: Labels) -> str:
    return "(" + ", ".join(sorted(labels.known)) + ")" if not labels.open else "(" + ", ".join(sorted(labels.known)) + ", ...)"


def promql_impossible_match(ctx: Context) -> list[Finding]:
    out = []
    for r, binaries in _rule_binaries(ctx):
        for b in binaries:
            got = never_matching_label(b, ctx.labels_of)
            if got is None:
                continue
            label, side, lhs, rhs = got
            out.append(error("promql/impossible-match", r.file, r.expr_line,
                             f"{_what(r)}: the two sides of '{b.op}' can never match: only the {side} side has "
                             f"{label!r} (left keeps {_show(lhs)}, right keeps {_show(rhs)}), so the result is always empty",
                             "aggregate both sides by the same labels, or match with on(...)/ignoring(...) and group_left/group_right"))
            break  # one finding per rule: inner mismatches usually follow from the outer one
    return out


# ----------------------------------------------------------------------- promql/count-zero

_COUNTS = {"count", "count_over_time", "absent", "absent_over_time"}
_MIRROR = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}


def _counting(node: Any) -> str | None:
    node = _unparen(node)
    if isinstance(node, pp.AggregateExpr) and str(node.op) == "count":
        return "count"
    if isinstance(node, pp.Call) and node.func.name in _COUNTS:
        return str(node.func.name)
    return None


def _never_true(op: str, n: float) -> bool:
    """``c OP n`` is false for every c >= 1 (what count() returns when it returns anything)."""
    return (op == "==" and n < 1) or (op == "<" and n <= 1) or (op == "<=" and n < 1)


def promql_count_zero(ctx: Context) -> list[Finding]:
    out = []
    for r, binaries in _rule_binaries(ctx):
        for b in binaries:
            op = str(b.op)
            if op not in _COMPARISONS or (b.modifier is not None and b.modifier.return_bool):
                continue
            lhs, rhs = _unparen(b.lhs), _unparen(b.rhs)
            if isinstance(rhs, pp.NumberLiteral) and (fn := _counting(lhs)):
                cop, n = op, float(rhs.val)
            elif isinstance(lhs, pp.NumberLiteral) and (fn := _counting(rhs)):
                cop, n = _MIRROR[op], float(lhs.val)
            else:
                continue
            if _never_true(cop, n):
                out.append(error("promql/count-zero", r.file, r.expr_line,
                                 f"{_what(r)}: {fn}() {cop} {n:g} is never true: {fn}() returns no series at all "
                                 "when nothing matches, never 0",
                                 "alert on absence with absent()/absent_over_time(), or write (count(...) or vector(0)) == 0"))
    return out


# ----------------------------------------------------------------------- alerts/no-comparison

_FILTER_FUNCS = {"absent", "absent_over_time"}
_INFO_LIKE = re.compile(r"_(info|metadata|labels)(_|$)")


def filters(node: Any, ctx: Context, depth: int = 0) -> bool:
    """Can the expression return nothing while its input series exist (a condition)?"""
    node = _unparen(node)
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        if op in _COMPARISONS:
            return not (node.modifier is not None and node.modifier.return_bool)
        if op in _FILTERS:
            return True
        if op == "or":
            return filters(node.lhs, ctx, depth) and filters(node.rhs, ctx, depth)
        return filters(node.lhs, ctx, depth) or filters(node.rhs, ctx, depth)
    if isinstance(node, pp.Call):
        if node.func.name in _FILTER_FUNCS:
            return True
        return any(filters(x, ctx, depth) for x in node.args if not isinstance(x, (pp.NumberLiteral, pp.StringLiteral)))
    if isinstance(node, (pp.AggregateExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return filters(node.expr, ctx, depth)
    if isinstance(node, pp.MatrixSelector):
        return filters(node.vector_selector, ctx, depth)
    if isinstance(node, pp.VectorSelector):
        name = node.name or ""
        if name == "ALERTS" or name == "ALERTS_FOR_STATE":
            return True  # present only while alerts fire
        if _INFO_LIKE.search(name) and any(m.name != "__name__" for m in node.matchers.matchers):
            return True  # `x_info{state="bad"}`: the series exists only while the matched state holds
        recs = ctx.records.get(name)
        if recs:  # the recording rule may hold the condition
            return depth >= 5 or any(filters(analyze(x.expr).ast, ctx, depth + 1) for x in recs if analyze(x.expr).ok)
        return ":" in name  # recorded elsewhere: its expression is unknown, so not judged
    return False


def alerts_no_comparison(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.alerts:
        a = analyze(r.expr)
        if not a.ok or not a.selectors:  # vector(1): a heartbeat that fires on purpose
            continue
        if not filters(a.ast, ctx):
            out.append(error("alerts/no-comparison", r.file, r.expr_line,
                             f"alert {r.name!r}: the expression has no condition (comparison, and/unless, absent), "
                             "so it fires for every series it selects, all the time",
                             "compare it with a threshold, e.g. `... > 0`"))
    return out


# ----------------------------------------------------------------------- regex matchers

_META = re.compile(r"[.*+?()\[\]{}|^$\\]")


def _regex_matchers(ctx: Context) -> Iterator[tuple[Rule, Any]]:
    for r in ctx.inv.rules:
        a = analyze(r.expr)
        if a.ok:
            seen = set()
            for s in a.selectors:
                for m in s.matchers:
                    if m.op in ("=~", "!~") and (m.name, m.op, m.value) not in seen:
                        seen.add((m.name, m.op, m.value))
                        yield r, m


def promql_regex_anchors(ctx: Context) -> list[Finding]:
    out = []
    for r, m in _regex_matchers(ctx):
        if m.value.startswith("^") or (m.value.endswith("$") and not m.value.endswith("\\$")):
            out.append(warning("promql/regex-anchors", r.file, r.expr_line,
                               f"{_what(r)}: {m.name}{m.op}{m.value!r}: Prometheus anchors regular expressions at both ends, "
                               "so '^' and '$' are redundant",
                               f"write {m.name}{m.op}{m.value.removeprefix('^').removesuffix('$')!r}"))
    return out


def promql_regex_literal(ctx: Context) -> list[Finding]:
    out = []
    for r, m in _regex_matchers(ctx):
        if not _META.search(m.value):
            eq = "=" if m.op == "=~" else "!="
            out.append(warning("promql/regex-literal", r.file, r.expr_line,
                               f"{_what(r)}: {m.name}{m.op}{m.value!r} has no regex special characters",
                               f"use an exact matcher: {m.name}{eq}{m.value!r}"))
    return out


# ----------------------------------------------------------------------- alerts/value-humanize

_RAW_VALUE = re.compile(r"\{\{-?\s*(\$value|\.Value)\s*-?\}\}")
_RATE_FUNCS = {"rate", "irate", "increase", "deriv"}


def _rate_like(node: Any) -> bool:
    node = _unparen(node)
    if isinstance(node, pp.Call):
        return node.func.name in _RATE_FUNCS or any(_rate_like(x) for x in node.args)
    if isinstance(node, pp.AggregateExpr):
        return str(node.op) not in ("count", "count_values") and _rate_like(node.expr)
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        if op == "==" and (isinstance(_unparen(node.rhs), pp.NumberLiteral) or isinstance(_unparen(node.lhs), pp.NumberLiteral)):
            return False  # $value is that number (`rate(x[5m]) == 0` prints 0)
        if op in _COMPARISONS or op in _FILTERS:
            return _rate_like(node.lhs)  # $value is the left side's
        return (op == "/" and not _is_scalar(node.rhs)) or _rate_like(node.lhs) or _rate_like(node.rhs)
    if isinstance(node, (pp.UnaryExpr, pp.SubqueryExpr)):
        return _rate_like(node.expr)
    return False


def alerts_value_humanize(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.inv.alerts:
        raw = [(k, v) for k, v in r.annotations.items() if _RAW_VALUE.search(v)]
        if not raw:
            continue
        a = analyze(r.expr)
        if not a.ok or not _rate_like(a.ast):
            continue
        for key, _ in raw:
            out.append(warning("alerts/value-humanize", r.file, r.annotation_lines.get(key, r.line),
                               f"alert {r.name!r}, {key}: {{{{ $value }}}} of a rate or ratio prints every digit "
                               "(e.g. 0.016666666666666666)",
                               "pipe it: {{ $value | humanize }}, {{ $value | humanizePercentage }} or {{ printf \"%.2f\" $value }}"))
    return out
