"""Mutation operators over the PromQL syntax tree.

Each operator has a stable public id (``mutate/<id>`` in findings, ``docs/checks/mutate/``). An
operator looks at one node of the tree parsed by promql-parser and returns the texts that node
may be replaced with. The whole mutated expression is then printed with the project's printer
(``moncheck.drills.promql_print.Printer``) with only that node replaced, and re-parsed to make
sure it is valid PromQL. promql-parser's nodes are mostly read-only, so a mutation is "print the
tree, but node #k like this" rather than an edit in place; node #k is the k-th node the printer
visits, which keeps the enumeration and the substitution in the same order by construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import promql_parser as pp

from moncheck.drills.promql_print import Printer, format_duration, to_ms

# Operator ids (public: findings, docs, policy suppressions). `for` works on the rule's YAML
# keys (``for``, ``keep_firing_for``) and lives in ``mutate.mutants``; the others here.
THRESHOLD = "threshold"
COMPARISON = "comparison"
RANGE = "range"
RECORD_RANGE = "record-range"
FOR = "for"
BINOP = "binop"
MATCHER = "matcher"
GROUPING = "grouping"
FUNCTION = "function"
OFFSET = "offset"
OPERATOR_IDS = (THRESHOLD, COMPARISON, RANGE, RECORD_RANGE, FOR, BINOP, MATCHER, GROUPING,
                FUNCTION, OFFSET)
# The check id of each operator's survivors, spelled out so that every public id is a literal
# (tests/unit/test_check_ids.py finds them in the source).
CHECK_IDS: dict[str, str] = {
    THRESHOLD: "mutate/threshold", COMPARISON: "mutate/comparison", RANGE: "mutate/range",
    RECORD_RANGE: "mutate/record-range", FOR: "mutate/for", BINOP: "mutate/binop",
    MATCHER: "mutate/matcher", GROUPING: "mutate/grouping", FUNCTION: "mutate/function",
    OFFSET: "mutate/offset",
}

THRESHOLD_FACTORS = (0.5, 2.0, 0.1, 10.0)
RANGE_FACTORS = (0.5, 2.0)
_COMPARISONS = {
    ">": (">=", "<"),
    ">=": (">", "<="),
    "<": ("<=", ">"),
    "<=": ("<", ">="),
    "==": ("!=",),
    "!=": ("==",),
}
_FUNCTIONS = {
    "rate": ("increase", "irate"),
    "increase": ("rate", "irate"),
    "irate": ("rate", "increase"),
    "max_over_time": ("min_over_time",),
    "min_over_time": ("max_over_time",),
    "avg_over_time": ("sum_over_time",),
    "sum_over_time": ("avg_over_time",),
}
_AGGREGATIONS = {"max": ("min",), "min": ("max",), "avg": ("sum",), "sum": ("avg",)}
_NEGATED_MATCH = {
    "MatchOp.Equal": "MatchOp.NotEqual",
    "MatchOp.NotEqual": "MatchOp.Equal",
    "MatchOp.Re": "MatchOp.NotRe",
    "MatchOp.NotRe": "MatchOp.Re",
}
# A label added to a grouping: target labels every scraped series carries.
_ADDED_LABELS = ("instance", "job")

_P = Printer()


@dataclass(frozen=True)
class ExprMutant:
    """One mutation of an expression: ``old`` -> ``new`` are the fragments (the node before and
    after), ``expr`` the whole mutated expression."""

    operator: str
    old: str
    new: str
    expr: str


class _Recorder(Printer):
    """Prints normally and records every node it visits, in visiting order."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[pp.Expr] = []

    def expr(self, e: pp.Expr) -> str:
        self.nodes.append(e)
        return super().expr(e)


class _Substitute(Printer):
    """Prints the tree with the ``target``-th visited node replaced by ``text``."""

    def __init__(self, target: int, text: str) -> None:
        super().__init__()
        self.target, self.text, self.seen = target, text, -1

    def expr(self, e: pp.Expr) -> str:
        self.seen += 1
        if self.seen == self.target:
            return self.text
        return super().expr(e)


def print_expr(e: pp.Expr) -> str:
    return _P(e)


# ------------------------------------------------------------------ fragment printers


def _binary(e: pp.BinaryExpr, op: str | None = None, lhs: str | None = None, rhs: str | None = None) -> str:
    """``e`` printed with its operator or one side replaced (same layout as the printer)."""
    return (f"{_P(e.lhs) if lhs is None else lhs} {str(e.op) if op is None else op}"
            f"{_P.bin_modifier(e)} {_P(e.rhs) if rhs is None else rhs}")


def _number(v: float) -> str:
    return _P(pp.parse(f"{v:.12g}"))


def _selector(vs: pp.VectorSelector, matchers: Sequence[object]) -> str:
    fake = SimpleNamespace(name=vs.name, matchers=SimpleNamespace(matchers=matchers, or_matchers=[]))
    return Printer.selector(fake)  # type: ignore[arg-type]


def _aggregate(e: pp.AggregateExpr, op: str | None = None, labels: list[str] | None = None) -> str:
    mod = ""
    if e.modifier is not None:
        kw = "by" if str(e.modifier.type).endswith("By") else "without"
        mod = f" {kw} ({', '.join(e.modifier.labels if labels is None else labels)})"
    args = _P(e.expr)
    if e.param is not None:
        args = f"{_P(e.param)}, {args}"
    return f"{str(e.op) if op is None else op}{mod} ({args})"


def _scaled(td: timedelta, factor: float) -> timedelta | None:
    ms = round(to_ms(td) * factor)
    return timedelta(milliseconds=ms) if ms >= 1 else None


# ------------------------------------------------------------------ operators

Edit = tuple[str, str]  # (operator id, replacement text of the node)


def threshold(e: pp.Expr) -> Iterator[str]:
    """The constant of a comparison scaled x0.5, x2, x0.1 and x10."""
    if not isinstance(e, pp.BinaryExpr) or str(e.op) not in _COMPARISONS:
        return
    for side in ("lhs", "rhs"):
        n = getattr(e, side)
        if isinstance(n, pp.NumberLiteral) and n.val != 0 and math.isfinite(n.val):
            for f in THRESHOLD_FACTORS:
                yield _binary(e, **{side: _number(n.val * f)})


def comparison(e: pp.Expr) -> Iterator[str]:
    """``>`` <-> ``>=``, ``<`` <-> ``<=``, the direction flipped, ``==`` <-> ``!=``."""
    if isinstance(e, pp.BinaryExpr) and str(e.op) in _COMPARISONS:
        for op in _COMPARISONS[str(e.op)]:
            yield _binary(e, op=op)


def binop(e: pp.Expr) -> Iterator[str]:
    """``and`` <-> ``or``, ``unless`` removed, one side of an ``and`` dropped."""
    if not isinstance(e, pp.BinaryExpr):
        return
    op = str(e.op)
    if op == "and":
        yield _binary(e, op="or")
        yield _P(e.lhs)
        yield _P(e.rhs)
    elif op == "or":
        yield _binary(e, op="and")
    elif op == "unless":
        yield _P(e.lhs)


def ranges(e: pp.Expr) -> Iterator[str]:
    """Each range selector and subquery range halved and doubled."""
    if isinstance(e, pp.MatrixSelector):
        vs = e.vector_selector
        for f in RANGE_FACTORS:
            r = _scaled(e.range, f)
            if r is not None:
                yield f"{Printer.selector(vs)}[{format_duration(r)}]" + Printer.mods(vs.at, vs.offset)
    elif isinstance(e, pp.SubqueryExpr) and e.range is not None:
        step = format_duration(e.step) if e.step is not None else ""
        for f in RANGE_FACTORS:
            r = _scaled(e.range, f)
            if r is not None:
                yield f"{_P(e.expr)}[{format_duration(r)}:{step}]" + Printer.mods(e.at, e.offset)


def matcher(e: pp.Expr) -> Iterator[str]:
    """Each label matcher removed; ``=`` <-> ``!=``, ``=~`` <-> ``!~``."""
    if isinstance(e, pp.MatrixSelector):
        vs, suffix = e.vector_selector, f"[{format_duration(e.range)}]"
    elif isinstance(e, pp.VectorSelector):
        vs, suffix = e, ""
    else:
        return
    if vs.matchers.or_matchers:
        return
    ms = list(vs.matchers.matchers)
    mods = Printer.mods(vs.at, vs.offset)
    for i, m in enumerate(ms):
        if m.name == "__name__":
            continue
        rest = ms[:i] + ms[i + 1 :]
        if vs.name or rest:
            yield _selector(vs, rest) + suffix + mods
        flipped = SimpleNamespace(name=m.name, op=_NEGATED_MATCH[str(m.op)], value=m.value)
        yield _selector(vs, [*ms[:i], flipped, *ms[i + 1 :]]) + suffix + mods


def grouping(e: pp.Expr) -> Iterator[str]:
    """Each ``by``/``without`` label dropped, a target label added; each ``on``/``ignoring``
    label of a vector match dropped."""
    if isinstance(e, pp.AggregateExpr) and e.modifier is not None:
        labels = list(e.modifier.labels)
        for i in range(len(labels)):
            yield _aggregate(e, labels=labels[:i] + labels[i + 1 :])
        for extra in _ADDED_LABELS:
            if extra not in labels:
                yield _aggregate(e, labels=[*labels, extra])
                break
    elif isinstance(e, pp.BinaryExpr) and e.modifier is not None and e.modifier.matching is not None:
        labels = list(e.modifier.matching.labels)
        for i in range(len(labels)):
            yield _with_matching(e, labels[:i] + labels[i + 1 :])


def _with_matching(e: pp.BinaryExpr, labels: list[str]) -> str:
    m = e.modifier
    assert m is not None and m.matching is not None
    kw = "on" if str(m.matching.type).endswith("Include") else "ignoring"
    full = _P.bin_modifier(e)
    old = f" {kw} ({', '.join(m.matching.labels)})"
    mod = full.replace(old, f" {kw} ({', '.join(labels)})", 1)
    return f"{_P(e.lhs)} {e.op}{mod} {_P(e.rhs)}"


def function(e: pp.Expr) -> Iterator[str]:
    """``rate`` <-> ``increase`` <-> ``irate``, ``max`` <-> ``min``, ``avg`` <-> ``sum`` (also
    their ``_over_time`` forms)."""
    if isinstance(e, pp.Call) and e.func.name in _FUNCTIONS:
        args = ", ".join(_P(a) for a in e.args)
        for name in _FUNCTIONS[e.func.name]:
            yield f"{name}({args})"
    elif isinstance(e, pp.AggregateExpr) and str(e.op) in _AGGREGATIONS:
        for op in _AGGREGATIONS[str(e.op)]:
            yield _aggregate(e, op=op)


def offset(e: pp.Expr) -> Iterator[str]:
    """An ``offset`` removed."""
    if isinstance(e, pp.VectorSelector) and e.offset is not None:
        yield Printer.selector(e) + Printer.mods(e.at, None)
    elif isinstance(e, pp.MatrixSelector) and e.vector_selector.offset is not None:
        vs = e.vector_selector
        yield f"{Printer.selector(vs)}[{format_duration(e.range)}]" + Printer.mods(vs.at, None)
    elif isinstance(e, pp.SubqueryExpr) and e.offset is not None and e.range is not None:
        step = format_duration(e.step) if e.step is not None else ""
        yield f"{_P(e.expr)}[{format_duration(e.range)}:{step}]" + Printer.mods(e.at, None)


# Operator id -> node operator, in the order mutants are listed.
NODE_OPERATORS: dict[str, Callable[[pp.Expr], Iterator[str]]] = {
    THRESHOLD: threshold,
    COMPARISON: comparison,
    RANGE: ranges,
    BINOP: binop,
    MATCHER: matcher,
    GROUPING: grouping,
    FUNCTION: function,
    OFFSET: offset,
}


def mutate_expr(text: str, *, recording: bool = False) -> list[ExprMutant]:
    """Every mutant of the expression ``text`` (ValueError if it does not parse). For a
    recording rule the ``range`` operator is reported as ``record-range``. Mutants equal to the
    original, duplicates and mutants that do not re-parse are left out."""
    tree = pp.parse(text)
    rec = _Recorder()
    original = rec(tree)
    seen = {original}
    out: list[ExprMutant] = []
    for i, node in enumerate(rec.nodes):
        old = _P(node)
        for op_id, op in NODE_OPERATORS.items():
            for new in op(node):
                full = _Substitute(i, new)(tree)
                if full in seen or not _parses(full):
                    continue
                seen.add(full)
                shown = RECORD_RANGE if (recording and op_id == RANGE) else op_id
                out.append(ExprMutant(shown, old, new, full))
    return out


def _parses(text: str) -> bool:
    try:
        pp.parse(text)
    except (ValueError, TypeError):
        return False
    return True
