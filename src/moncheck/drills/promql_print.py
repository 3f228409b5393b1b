"""Faithful PromQL printer for ``promql_parser`` ASTs, with exact durations.

``str(expr)`` of promql-parser 0.12 drops milliseconds (``[1500ms]`` prints ``[1s]``) and prints a
subquery without a step as a range selector (``rate(x[5m])[10m:]`` prints ``...[10m]``, which is not
valid PromQL). Compressed rules need both, so we print the tree ourselves. The tree keeps every
``ParenExpr`` of the source, so printing node by node re-parses to the same tree.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from collections.abc import Callable

import promql_parser as pp

_UNITS = (
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)


def to_ms(td: timedelta) -> int:
    """Whole milliseconds of ``td`` (Prometheus durations have millisecond resolution)."""
    return round(td.total_seconds() * 1000)


def format_duration(td: timedelta | int) -> str:
    """Prometheus duration text (``1m30s``, ``1s500ms``, ``-5m``); ``td`` may be milliseconds."""
    ms = td if isinstance(td, int) else to_ms(td)
    if ms == 0:
        return "0s"
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    parts = []
    for unit, size in _UNITS:
        n, ms = divmod(ms, size)
        if n:
            parts.append(f"{n}{unit}")
    return sign + "".join(parts)


def _number(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _string(s: str) -> str:
    return json.dumps(s)


def _matchers(ms: list) -> str:
    return ", ".join(f"{m.name}{_OPS[str(m.op)]}{_string(m.value)}" for m in ms)


_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}

DurFn = Callable[[timedelta], timedelta]


class Printer:
    """Print an expression; ``default_step`` is written into subqueries that had none."""

    def __init__(self, default_step: timedelta | None = None) -> None:
        self.default_step = default_step

    def __call__(self, e: pp.Expr) -> str:
        return self.expr(e)

    def expr(self, e: pp.Expr) -> str:
        if isinstance(e, pp.NumberLiteral):
            return _number(e.val)
        if isinstance(e, pp.StringLiteral):
            return _string(e.val)
        if isinstance(e, pp.VectorSelector):
            return self.selector(e) + self.mods(e.at, e.offset)
        if isinstance(e, pp.MatrixSelector):
            vs = e.vector_selector
            return f"{self.selector(vs)}[{format_duration(e.range)}]" + self.mods(vs.at, vs.offset)
        if isinstance(e, pp.SubqueryExpr):
            step = e.step if e.step is not None else self.default_step
            st = format_duration(step) if step is not None else ""
            return f"{self.expr(e.expr)}[{format_duration(e.range or 0)}:{st}]" + self.mods(e.at, e.offset)
        if isinstance(e, pp.ParenExpr):
            return f"({self.expr(e.expr)})"
        if isinstance(e, pp.UnaryExpr):
            return f"-{self.expr(e.expr)}"
        if isinstance(e, pp.Call):
            return f"{e.func.name}({', '.join(self.expr(a) for a in e.args)})"
        if isinstance(e, pp.AggregateExpr):
            mod = ""
            if e.modifier is not None:
                kw = "by" if str(e.modifier.type).endswith("By") else "without"
                mod = f" {kw} ({', '.join(e.modifier.labels)})"
            args = self.expr(e.expr)
            if e.param is not None:
                args = f"{self.expr(e.param)}, {args}"
            return f"{e.op}{mod} ({args})"
        if isinstance(e, pp.BinaryExpr):
            return f"{self.expr(e.lhs)} {e.op}{self.bin_modifier(e)} {self.expr(e.rhs)}"
        raise ValueError(f"unsupported PromQL node {type(e).__name__}")

    @staticmethod
    def selector(vs: pp.VectorSelector) -> str:
        name = vs.name or ""
        ms = vs.matchers
        if ms.or_matchers:
            inner = " or ".join(_matchers(g) for g in ms.or_matchers)
            return f"{name}{{{inner}}}"
        if ms.matchers or not name:
            return f"{name}{{{_matchers(ms.matchers)}}}"
        return name

    @staticmethod
    def mods(at: pp.AtModifier | None, offset: timedelta | None) -> str:
        out = ""
        if at is not None:
            kind = str(at.type)
            if kind.endswith("Start"):
                out += " @ start()"
            elif kind.endswith("End"):
                out += " @ end()"
            else:
                out += f" @ {at.at.timestamp():.3f}" if at.at is not None else ""
        if offset is not None:
            out += f" offset {format_duration(offset)}"
        return out

    @staticmethod
    def bin_modifier(e: pp.BinaryExpr) -> str:
        m = e.modifier
        if m is None:
            return ""
        out = " bool" if m.return_bool else ""
        if m.matching is not None:
            kw = "on" if str(m.matching.type).endswith("Include") else "ignoring"
            out += f" {kw} ({', '.join(m.matching.labels or [])})"
        card = str(m.card)
        if card.endswith("ManyToOne"):
            out += f" group_left ({', '.join(m.group_labels or [])})"
        elif card.endswith("OneToMany"):
            out += f" group_right ({', '.join(m.group_labels or [])})"
        return out
