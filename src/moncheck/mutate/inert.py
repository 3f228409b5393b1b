"""Mutants that a test group's input cannot tell apart from the original, decided without a run.

A test group's raw series (metrics no rule writes) are exactly its ``input_series``, with label
sets written in the test file. Some mutations only change *which* of those series a selector
picks or *how* an aggregation groups them; when, on this group's input, the mutated node picks
the same series and forms the same output groups as the original, the mutated expression has the
same value at every evaluation step, so no assertion of the group can fail: the group cannot
observe the mutant and need not run it. Decided (exactly, never by guess) for:

- a changed selector (``matcher``): the same series match both;
- ``agg by|without (...)`` over a selector, optionally through ``rate``/``increase``/``irate``
  and arithmetic or comparison with a number (which keep the label set): a changed label list
  (``grouping``) that maps every matched series to the same output labels, or ``sum`` <-> ``avg``
  / ``min`` <-> ``max`` (``function``) when every output group has at most one series.

The series a selector can match: for a metric no rule writes, the group's input series; for a
recorded metric, the label sets of its rules when each rule's expression yields no label its
``labels`` do not set (``sum(...) / sum(...)`` with fixed labels: its series carry exactly those);
else unknown. Anything unknown (``ALERTS``, regular expressions beyond plain alternations,
native histograms, ``__name__``) is left to promtool.
"""

from __future__ import annotations

import functools

import re
from typing import Any

import promql_parser as pp

from moncheck.drills.promql_print import Printer
from moncheck.mutate.scope import ALERT_SERIES
from moncheck.promql import parse

_P = Printer()
_LABEL_KEEPING = frozenset({"rate", "increase", "irate"})
_SWAPS = ({"sum", "avg"}, {"min", "max"})
# Regular expressions read the same by RE2 (Prometheus) and Python: literals, alternation,
# groups, ``. * + ?`` and escaped punctuation; no classes, repetition braces or flags.
_PLAIN_RE = re.compile(r"(?:[A-Za-z0-9_/:.*+?|()-]|\\[.\-/|()*+?])*")

Series = dict[str, str]
# metric name -> the label sets its series can have on a group's input (None: not known). A
# name missing from it has no series at all.
Universe = dict[str, "list[Series] | None"]


def input_series(group: Any) -> list[tuple[str, Series]] | None:
    """(metric name, labels) of a test group's input series; None when one cannot be read or
    holds native histograms (left to promtool)."""
    out: list[tuple[str, Series]] = []
    for s in (group.get("input_series") or []) if isinstance(group, dict) else []:
        if not isinstance(s, dict) or "{{" in str(s.get("values", "")):
            return None
        try:
            vs = parse(str(s.get("series", "")))
        except ValueError:
            return None
        if not isinstance(vs, pp.VectorSelector) or vs.matchers.or_matchers:
            return None
        labels = {m.name: m.value for m in vs.matchers.matchers}
        name = vs.name or labels.get("__name__", "")
        labels.pop("__name__", None)
        if any("\n" in v for v in labels.values()):
            return None
        out.append((name, {k: v for k, v in labels.items() if v != ""}))
    return out


def _matches(m: Any, labels: Series) -> bool | None:
    op, value = str(m.op), labels.get(m.name, "")
    if op == "MatchOp.Equal":
        return value == m.value
    if op == "MatchOp.NotEqual":
        return value != m.value
    if not _PLAIN_RE.fullmatch(m.value):
        return None
    hit = re.fullmatch(f"(?:{m.value})", value) is not None
    return hit if op == "MatchOp.Re" else not hit


def universe(series: list[tuple[str, Series]], recorded: dict[str, list[Series] | None]) -> Universe:
    """The universe of a group: its input series (of the names no rule writes) and the label
    sets of the recorded names (``recorded_label_sets``); ``ALERTS`` is unknown."""
    out: Universe = dict(recorded)
    out.update(dict.fromkeys(ALERT_SERIES))
    for name, labels in series:
        if name in recorded:  # input series of a recorded name: both kinds are in storage
            out[name] = None
        elif name not in ALERT_SERIES:
            entry = out.setdefault(name, [])
            if entry is not None:
                entry.append(labels)
    return out


def recorded_label_sets(rules: list[tuple[str, str, Series | None]]) -> dict[str, list[Series] | None]:
    """From (name, expression, labels) of every recording rule (alerts: name ``ALERTS``), the
    label sets each recorded name can have: a rule whose expression yields no label its own
    ``labels`` do not set writes series with exactly those labels; any other rule makes its
    name unknown (None), as do ``labels`` that are not a mapping (None)."""
    from moncheck.promql import OPEN, labels_of_node

    out: dict[str, list[Series] | None] = {}
    for name, expr, labels in rules:
        if labels is None:
            out[name] = None
            continue
        fixed = {k: v for k, v in labels.items() if v != ""}
        try:
            got = labels_of_node(parse(expr), lambda _n: OPEN)
        except (ValueError, TypeError):
            got = OPEN
        known = out.get(name, [])
        if known is None or got.open or not got.known <= set(labels):
            out[name] = None
        else:
            known.append(fixed)
            out[name] = known
    return out


def _picked(vs: pp.VectorSelector, world: Universe) -> list[tuple[int, Series]] | None:
    """(index, labels) of the possible series ``vs`` selects, None when that cannot be decided."""
    if vs.matchers.or_matchers or not vs.name:
        return None
    sets = world.get(vs.name, [])
    if sets is None:
        return None
    out = []
    for i, labels in enumerate(sets):
        hits = [_matches(m, labels) for m in vs.matchers.matchers if m.name != "__name__"]
        if None in hits:
            return None
        if all(hits):
            out.append((i, labels))
    return out


def _children(e: Any) -> list[Any]:
    if isinstance(e, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return [e.expr]
    if isinstance(e, pp.Call):
        return list(e.args)
    if isinstance(e, pp.AggregateExpr):
        return [e.expr] + ([e.param] if e.param is not None else [])
    if isinstance(e, pp.BinaryExpr):
        return [e.lhs, e.rhs]
    if isinstance(e, pp.MatrixSelector):
        return [e.vector_selector]
    return []


def changed_node(a: Any, b: Any) -> tuple[Any, Any] | None:
    """The innermost pair of nodes where trees ``a`` and ``b`` differ, when they differ in
    one place and are the same around it; None when they are equal."""
    if _P(a) == _P(b):
        return None
    ca, cb = _children(a), _children(b)
    if type(a) is type(b) and len(ca) == len(cb) and ca:
        differing = [(x, y) for x, y in zip(ca, cb, strict=True) if _P(x) != _P(y)]
        if len(differing) == 1 and _shell(a) == _shell(b):
            return changed_node(*differing[0])
    return a, b


def _shell(e: Any) -> tuple[str, ...]:
    """What node ``e`` is besides its children: equal shells differ only inside children."""
    if isinstance(e, pp.Call):
        return ("call", e.func.name)
    if isinstance(e, pp.AggregateExpr):
        mod = e.modifier
        return ("agg", str(e.op), str(mod.type) if mod else "", ",".join(mod.labels) if mod else "")
    if isinstance(e, pp.BinaryExpr):
        return ("bin", str(e.op), Printer.bin_modifier(e))
    if isinstance(e, pp.MatrixSelector):
        return ("matrix", str(e.range))
    if isinstance(e, pp.SubqueryExpr):
        return ("subquery", str(e.range), str(e.step), Printer.mods(e.at, e.offset))
    if isinstance(e, pp.ParenExpr):
        return ("paren",)
    if isinstance(e, pp.UnaryExpr):
        return ("unary",)
    return ("leaf", _P(e))


def _member_selector(e: Any) -> pp.VectorSelector | None:
    """The selector whose series (or a subset of them, with the same labels) ``e`` yields:
    through ``f(sel[r])`` with ``f`` keeping the labels, parentheses, and arithmetic or
    comparison with a number."""
    while True:
        if isinstance(e, pp.ParenExpr):
            e = e.expr
        elif isinstance(e, pp.Call) and e.func.name in _LABEL_KEEPING and len(e.args) == 1:
            e = e.args[0]
        elif isinstance(e, pp.MatrixSelector):
            e = e.vector_selector
        elif isinstance(e, pp.BinaryExpr) and _numeric(e.rhs):
            e = e.lhs
        elif isinstance(e, pp.BinaryExpr) and _numeric(e.lhs):
            e = e.rhs
        else:
            return e if isinstance(e, pp.VectorSelector) else None


def _numeric(e: Any) -> bool:
    """A number, or arithmetic of numbers only."""
    if isinstance(e, pp.NumberLiteral):
        return True
    if isinstance(e, (pp.ParenExpr, pp.UnaryExpr)):
        return _numeric(e.expr)
    return isinstance(e, pp.BinaryExpr) and _numeric(e.lhs) and _numeric(e.rhs)


def _key(mod: Any, labels: Series) -> tuple[tuple[str, str], ...]:
    if mod is None:
        return ()
    if str(mod.type).endswith("By"):
        return tuple(sorted((k, labels[k]) for k in set(mod.labels) if k in labels))
    return tuple(sorted((k, v) for k, v in labels.items() if k not in set(mod.labels)))


def _uses_name(mod: Any) -> bool:
    return mod is not None and "__name__" in mod.labels


_UNPARSABLE = "unparsable"


@functools.lru_cache(maxsize=8192)
def _changed(original: str, mutated: str) -> tuple[Any, Any] | str | None:
    """``changed_node`` of the two parsed expressions, once per pair: it does not depend on the
    group, and a mutant is asked about every group that observes it."""
    try:
        return changed_node(parse(original), parse(mutated))
    except (ValueError, TypeError):
        return _UNPARSABLE


def inert(original: str, mutated: str, world: Universe) -> bool:
    """Whether expression ``mutated`` has the value of ``original`` at every step on a group
    whose series are those of ``world``."""
    pair = _changed(original, mutated)
    if pair == _UNPARSABLE:
        return False
    if pair is None:
        return True
    assert not isinstance(pair, str)
    a, b = pair
    if isinstance(a, pp.MatrixSelector) and isinstance(b, pp.MatrixSelector):
        if a.range != b.range:
            return False
        a, b = a.vector_selector, b.vector_selector
    if isinstance(a, pp.VectorSelector) and isinstance(b, pp.VectorSelector):
        if a.name != b.name or _P.mods(a.at, a.offset) != _P.mods(b.at, b.offset):
            return False
        pa, pb = _picked(a, world), _picked(b, world)
        return pa is not None and pa == pb
    if not (isinstance(a, pp.AggregateExpr) and isinstance(b, pp.AggregateExpr)):
        return False
    if a.param is not None or b.param is not None or _P(a.expr) != _P(b.expr):
        return False
    if _uses_name(a.modifier) or _uses_name(b.modifier):
        return False
    vs = _member_selector(a.expr)
    picked = _picked(vs, world) if vs is not None else None
    if picked is None:
        return False
    if str(a.op) == str(b.op):
        return all(_key(a.modifier, labels) == _key(b.modifier, labels) for _, labels in picked)
    if {str(a.op), str(b.op)} not in _SWAPS or _with_op(a) != _with_op(b):
        return False
    keys = [_key(a.modifier, labels) for _, labels in picked]
    return len(keys) == len(set(keys))


def _with_op(e: pp.AggregateExpr) -> str:
    """``e`` printed without its operator (equal: only the operator differs)."""
    return _P(e)[len(str(e.op)):]
