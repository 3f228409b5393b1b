"""PromQL helpers for SLO specs: window placeholders, parse errors and vector selectors, on top
of ``moncheck.promql``'s cached parse and analysis."""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser

from moncheck.promql import Analysis, Matcher, analyze

# Go template action {{.window}}, with any spacing inside the braces (as text/template allows).
_WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...]

    def equal(self, label: str) -> str | None:
        for m in self.matchers:
            if m.name == label and m.op == "=":
                return m.value
        return None

    def le_bound(self) -> str | None:
        """The bucket bound a ``_bucket`` selector picks: ``le="1"``, or ``le=~"1(\\.0)?"``.

        The regex form matches both exposition styles of the same bound: ``1`` (prom-client,
        Go) and ``1.0`` (prometheus_client for Python, and every target on Prometheus 3.x, which
        normalises ``le``). Any other regex is not a single bound: None.
        """
        for m in self.matchers:
            if m.name != "le":
                continue
            if m.op == "=":
                return m.value
            if m.op == "=~" and m.value.endswith(_FLOAT_SUFFIX):
                return m.value.removesuffix(_FLOAT_SUFFIX)
        return None


# Regex suffix that makes ``X`` also match ``X.0`` (see Selector.le_bound).
_FLOAT_SUFFIX = "(\\.0)?"


def fill_window(query: str, window: str) -> str:
    return _WINDOW.sub(window, query)


def has_window(query: str) -> bool:
    return _WINDOW.search(query) is not None


def parse_error(expr: str) -> str | None:
    """The first line of the parser's message when ``expr`` is not valid PromQL, else None."""
    err = analyze(expr).error
    if err is None:
        return None
    return err.strip().splitlines()[0] if err.strip() else "invalid PromQL"


def _parsed(expr: str) -> Analysis:
    """The cached analysis of ``expr``; ValueError when it does not parse."""
    a = analyze(expr)
    if a.error is not None:
        raise ValueError(a.error)
    return a


def selectors(expr: str) -> list[Selector]:
    """Every vector selector of ``expr`` (which must parse), in order of appearance."""
    return [Selector(s.name or "", s.matchers) for s in _parsed(expr).selectors]


def top_level_grouping(expr: str) -> bool:
    """True when ``expr`` may keep labels: i.e. it is not a ratio of label-free aggregations.

    The generated tests predict alert labels; that is only possible when the SLI returns one
    series without labels (``sum(...)`` without ``by``), which is what SLO queries normally do.
    """
    return _keeps_labels(_parsed(expr).ast)


# Functions whose result has no labels, and functions that add or invent labels.
_LABEL_FREE = {"vector", "scalar", "time", "pi", "minute", "hour", "day_of_month", "day_of_week",
               "days_in_month", "month", "year"}
_LABEL_MAKERS = {"label_replace", "label_join", "absent", "absent_over_time"}


def _keeps_labels(node: object) -> bool:
    if isinstance(node, promql_parser.AggregateExpr):
        mod = node.modifier
        if mod is None:
            return False
        kind = str(mod.type).rsplit(".", 1)[-1]
        return not (kind == "By" and not list(mod.labels))
    if isinstance(node, (promql_parser.NumberLiteral, promql_parser.StringLiteral)):
        return False
    if isinstance(node, promql_parser.BinaryExpr):
        return _keeps_labels(node.lhs) or _keeps_labels(node.rhs)
    if isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr,
                         promql_parser.SubqueryExpr)):
        return _keeps_labels(node.expr)
    if isinstance(node, promql_parser.Call):
        name = getattr(node.func, "name", "")
        if name in _LABEL_FREE:
            return False
        if name in _LABEL_MAKERS:
            return True
        # rate, increase, *_over_time, abs, round, clamp...: the labels of their vector argument.
        args = list(getattr(node, "args", []) or [])
        return any(_keeps_labels(a) for a in args)
    return True


@dataclass(frozen=True)
class LinearTerm:
    """``sign * [sum](fn(selector[range]))``: one summand of an SLI query."""

    sign: float
    fn: str
    summed: bool


_COUNTER_FNS = ("rate", "irate", "increase")


def linear_terms(expr: str) -> list[LinearTerm] | None:
    """``expr`` as a sum of ``±[sum](rate|irate|increase(selector[range]))``, in the order of
    its selectors (``selectors(expr)``), or None when it is not of that form (the burn model
    then treats each side as a whole)."""
    out: list[LinearTerm] = []
    return out if _linear(_parsed(expr).ast, 1.0, out) else None


def _linear(node: object, sign: float, out: list[LinearTerm]) -> bool:
    if isinstance(node, promql_parser.ParenExpr):
        return _linear(node.expr, sign, out)
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in ("+", "-") \
            and node.modifier is None:
        return _linear(node.lhs, sign, out) and _linear(
            node.rhs, sign if str(node.op) == "+" else -sign, out)
    summed = False
    if isinstance(node, promql_parser.AggregateExpr):
        if str(node.op) != "sum" or node.modifier is not None or node.param is not None:
            return False
        node, summed = node.expr, True
        while isinstance(node, promql_parser.ParenExpr):
            node = node.expr
    if not isinstance(node, promql_parser.Call):
        return False
    name = getattr(node.func, "name", "")
    args = list(getattr(node, "args", []) or [])
    if name not in _COUNTER_FNS or len(args) != 1 \
            or not isinstance(args[0], promql_parser.MatrixSelector) \
            or args[0].vector_selector.offset is not None \
            or getattr(args[0].vector_selector, "at", None) is not None:
        return False
    out.append(LinearTerm(sign, name, summed))
    return True
