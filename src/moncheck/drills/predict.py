"""Predicted detection: the earliest time after a drill's fault at which an alert's condition can hold.

Derived from the (compressed) rule and the drill, never written by hand. The condition is walked
as a tree: ``and`` holds when both sides hold (the later crossing), ``or`` when either does (the
earlier); a comparison of a value with a constant threshold crosses when the value does:

- an **instant** value (no range selector, e.g. ``up == 0``, a health gauge): at once, floor 0;
- a **ratio over a window** W (``rate(bad[W]) / rate(all[W])``, also through recording rules)
  under a fault of intensity f (the drill's ``error_ratio`` or ``db_failures``) against threshold
  T: the window must hold a share x = T/f of fault traffic. With the window full of healthy
  traffic that is x*W; in a stack younger than the window (age a) it holds only a's traffic, so
  x*a/(1-x) (whichever is reached first). The traffic's rate cancels out of a ratio (the time of
  the first bad request is no bound: the service spaces errors exactly, one every 1/f requests,
  and the first may come at once). Requests are not evenly spaced, though: each of the drill's
  users sends one every 1/rate_per_user seconds at its own phase, so right after the fault all
  of them may send at once; the floor is lowered by that one inter-request gap (``burst_s``),
  else a burst beats it (seen: 0.13s against a floor of 0.21s);
- ``avg_over_time(up[W]) < T`` with the service stopped: the same window share, x = 1 - T;
- a ratio whose **bad series the fault creates** (a 5xx counter that did not exist before):
  rate() then covers the series' own samples, not the window, and the ratio jumps to f as soon
  as the series has two samples: one scrape interval.

Anything else (latency quantiles and latency SLOs, whose faults also change the request rate;
event counts ``increase(x[W]) > N``, whose event rate the drill does not state) is reported as not
predicted, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

# Measurement slack of a predicted crossing: the ratio's numerator and denominator are scraped
# together, so their extrapolations cancel; what remains is the discreteness of the fault (one
# error every 1/f requests) and millisecond rounding.
SLACK = 0.95
RATIO_FAULTS = ("error_ratio", "db_failures")
COMPARISONS = {">", ">=", "<", "<=", "==", "!="}


@dataclass
class Prediction:
    floor_s: float | None   # earliest detection in wall seconds after the fault; None: not predicted
    model: str              # the derivation, or why there is none


@dataclass
class Context:
    recorded: dict[str, list[tuple[dict[str, str], str]]]  # record name -> [(static labels, expr)]
    fault: dict[str, Any]
    rate_rps: float          # the drill's request rate before the fault
    age_s: float             # age of the data at the fault (scraping, and the drill's traffic)
    scrape_s: float
    exists: Callable[[str], bool]  # does this selector have series before the fault
    burst_s: float = 0.0     # one user's gap between requests: every user may send at once in it


class _NoModel(Exception):
    pass


def predict(expr: str, ctx: Context) -> Prediction:
    try:
        t, how = _cond(pp.parse(expr), ctx)
    except _NoModel as e:
        return Prediction(None, f"not predicted: {e}")
    except (ValueError, TypeError) as e:
        return Prediction(None, f"not predicted: cannot parse the rule ({e})")
    return Prediction(t, how)


def _unparen(n: Any) -> Any:
    while isinstance(n, pp.ParenExpr):
        n = n.expr
    return n


def _const(n: Any) -> float | None:
    n = _unparen(n)
    if isinstance(n, pp.NumberLiteral):
        return float(n.val)
    if isinstance(n, pp.UnaryExpr):
        v = _const(n.expr)
        return None if v is None else -v
    if isinstance(n, pp.BinaryExpr) and str(n.op) in "+-*/":
        a, b = _const(n.lhs), _const(n.rhs)
        if a is None or b is None:
            return None
        op = str(n.op)
        return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else (a / b if b else None)
    return None


def _is_condition(n: Any) -> bool:
    n = _unparen(n)
    return isinstance(n, pp.BinaryExpr) and str(n.op) in COMPARISONS | {"and", "or"}


def _cond(n: Any, ctx: Context) -> tuple[float, str]:
    n = _unparen(n)
    if isinstance(n, pp.AggregateExpr) and _is_condition(n.expr):
        return _cond(n.expr, ctx)  # `max(x > T) without (w)` (Sloth 0.16) holds when `x > T` does
    if isinstance(n, pp.BinaryExpr):
        op = str(n.op)
        if op in ("and", "or"):
            (a, ha), (b, hb) = _cond(n.lhs, ctx), _cond(n.rhs, ctx)
            if op == "and":
                return (a, ha) if a >= b else (b, hb)
            return (a, ha) if a <= b else (b, hb)
        if op in COMPARISONS:
            lc, rc = _const(n.lhs), _const(n.rhs)
            if rc is not None and lc is None:
                return _crossing(n.lhs, op, rc, ctx)
            if lc is not None and rc is None:
                flipped = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
                return _crossing(n.rhs, flipped, lc, ctx)
            raise _NoModel("a comparison of two series")
    return _crossing(n, "!=", 0.0, ctx)  # a bare vector: holds when it has a result


def _crossing(value: Any, op: str, threshold: float, ctx: Context) -> tuple[float, str]:
    v = _unparen(value)
    if _is_condition(v) or (isinstance(v, pp.AggregateExpr) and _is_condition(v.expr)):
        return _cond(v, ctx)  # `(x < 1) > 0`: the filter decides
    kind = _kind(v, ctx)
    if kind[0] == "instant":
        return 0.0, "instant condition: the first evaluation after the first scrape that shows the fault"
    if kind[0] == "fresh":
        t = ctx.scrape_s
        return SLACK * t, (f"the fault creates the series {kind[1]}: rate() covers its own samples, "
                           f"so the ratio jumps once it has two (one scrape, {t:.2f}s)")
    if kind[0] == "ratio" and op in (">", ">="):
        f = _fault_ratio(ctx)
        if not 0 < threshold < f:
            raise _NoModel(f"the fault's ratio {f:g} does not exceed the threshold {threshold:g}")
        return _window_share(threshold / f, kind[1], ctx, f"ratio over {kind[1]:g}s: share {threshold:g}/{f:g}",
                             ctx.burst_s)
    if kind[0] == "avg_up" and op in ("<", "<=") and ctx.fault.get("stop_service"):
        return _window_share(1 - threshold, kind[1], ctx, f"avg_over_time(up) over {kind[1]:g}s below "
                             f"{threshold:g}: share {1 - threshold:g} of failed scrapes")
    if kind[0] in ("rate_window", "increase_window", "sum_over_time_window", "count_over_time_window"):
        raise _NoModel(f"an event count or rate over {kind[1]:g}s: it needs the rate of the fault's "
                       "events, which the drill does not state")
    if kind[0] in ("ratio", "avg_up"):
        raise _NoModel(f"a {kind[0]} condition ({op} {threshold:g}) under this fault")
    raise _NoModel(kind[1] if isinstance(kind[1], str) else f"{kind[0]} value under this fault")


def _window_share(x: float, window: float, ctx: Context, what: str, burst_s: float = 0.0) -> tuple[float, str]:
    young = x * ctx.age_s / (1 - x) if x < 1 else float("inf")
    if ctx.age_s + young <= window:
        t, form = young, f"data {ctx.age_s:.1f}s old, younger than the window: x*age/(1-x)"
    else:
        t, form = x * window, "x*W"
    if burst_s > 0:
        return max(0.0, SLACK * t - burst_s), f"{what}, {form} = {t:.2f}s, less a burst of requests ({burst_s:.2f}s)"
    return SLACK * t, f"{what}, {form} = {t:.2f}s"


def _fault_ratio(ctx: Context) -> float:
    control = ctx.fault.get("control") or {}
    ratios = [float(control[k]) for k in RATIO_FAULTS if isinstance(control.get(k), (int, float))
              and not isinstance(control.get(k), bool)]
    if len(ratios) != 1:
        raise _NoModel("a ratio condition under a fault that is not one ratio (error_ratio or db_failures)")
    return ratios[0]


def _kind(n: Any, ctx: Context) -> tuple[str, Any]:
    """("instant", _) | ("ratio", W) | ("fresh", selector) | ("avg_up", W) | (other, reason)."""
    n = _unparen(n)
    if isinstance(n, pp.NumberLiteral):
        return ("instant", None)
    if isinstance(n, pp.VectorSelector):
        defs = _definitions(n, ctx)
        if not defs:
            return ("instant", None)
        kinds = [_kind(pp.parse(e), ctx) for e in defs]
        return kinds[0] if all(k == kinds[0] for k in kinds) else ("mixed", "recording rules of several kinds")
    if isinstance(n, pp.AggregateExpr):
        return _kind(n.expr, ctx)
    if isinstance(n, pp.UnaryExpr):
        return _kind(n.expr, ctx)
    if isinstance(n, pp.Call):
        name = n.func.name
        if name == "histogram_quantile":
            return ("quantile", "a latency quantile: a latency fault also changes the request rate")
        mats = [a for a in n.args if isinstance(a, pp.MatrixSelector)]
        if mats:
            w = mats[0].range.total_seconds()
            if name == "avg_over_time" and mats[0].vector_selector.name == "up":
                return ("avg_up", w)
            return (f"{name}_window", w)
        inner = [a for a in n.args if _const(a) is None]
        return _kind(inner[0], ctx) if len(inner) == 1 else ("call", f"function {name}")
    if isinstance(n, pp.SubqueryExpr):
        return ("subquery", "a subquery")
    if isinstance(n, pp.BinaryExpr):
        op = str(n.op)
        lc, rc = _const(n.lhs), _const(n.rhs)
        if lc is not None or rc is not None:  # scaled by a constant: same shape
            return _kind(n.rhs if lc is not None else n.lhs, ctx)
        a, b = _kind(n.lhs, ctx), _kind(n.rhs, ctx)
        if op == "/" and a[0] in ("rate_window", "increase_window") and a == b:
            fresh = [s for s in _selectors(n.lhs) if not ctx.exists(s)]
            return ("fresh", fresh[0]) if fresh else ("ratio", a[1])
        if op == "/" and a[0] == "fresh":
            return a
        if op == "/" and a[0] in ("ratio", "fresh") and b[0] == "instant":
            return a
        if a[0] == "instant" and b[0] == "instant":
            return ("instant", None)
        if "latency" in str(a[1]) or "latency" in str(b[1]):
            return a if "latency" in str(a[1]) else b
        return ("arith", "arithmetic over windows that is not a ratio of rates "
                         "(a latency SLO's slow share: a latency fault also changes the request rate)")
    return ("unknown", f"expression node {type(n).__name__}")


def _definitions(vs: Any, ctx: Context) -> list[str]:
    """The recording rules that may produce the series ``vs`` selects (static labels consistent)."""
    out = []
    eq = {m.name: m.value for m in vs.matchers.matchers if str(m.op).endswith("Equal") and "Not" not in str(m.op)}
    for labels, expr in ctx.recorded.get(vs.name or "", []):
        if all(labels.get(k, v) == v for k, v in eq.items()):
            out.append(expr)
    return out


def _selectors(n: Any) -> list[str]:
    out: list[str] = []

    def visit(x: Any) -> None:
        if isinstance(x, pp.MatrixSelector):
            out.append(x.vector_selector.prettify())
    pp.walk(n, post_visit=visit)
    return out
