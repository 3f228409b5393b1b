"""PromQL expression analysis, best-effort: which series an expression selects, which functions
apply to which selectors, where ``histogram_quantile`` gets its buckets, and which labels the
result keeps. Anything the analysis cannot know is ``None`` (callers then stay silent).

Parses are cached by expression text: 10,000 rules with shared expressions parse once each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import promql_parser as pp

MAX_EXPR_CHARS = 100_000
MAX_EXPR_NESTING = 256
"""promql-parser (Rust) overflows its stack on deep trees: 20,000 nested parentheses or a chain
of 5,000 ``+`` kill the process with SIGSEGV, and Python walks of the tree recurse too. Every
parse goes through ``parse``, which refuses expressions whose nesting (brackets plus binary and
unary operators, an upper bound of the tree's depth) or length exceeds these limits."""

# String literals (skipped), brackets, and operator tokens outside label matchers.
_LEX = re.compile(r""""(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?|[()\[\]{}]|[-+*/%^]|==|!=|>=|<=|[<>]|\b(?:and|or|unless|atan2)\b""")


def complexity_error(expr: str) -> str | None:
    """Why ``expr`` is too big or too deep to hand to the parser, or None when it is safe."""
    if len(expr) > MAX_EXPR_CHARS:
        return f"expression too long ({len(expr)} characters; the limit is {MAX_EXPR_CHARS}): not parsed"
    depth = deepest = ops = 0
    braces = 0
    for m in _LEX.finditer(expr):
        t = m.group()
        if t in "([{":
            depth += 1
            braces += t == "{"
            deepest = max(deepest, depth)
        elif t in ")]}":
            depth -= 1
            braces -= t == "}"
        elif t[0] not in "\"'`" and braces <= 0:
            ops += 1
    if deepest + ops > MAX_EXPR_NESTING:
        return (f"expression too deeply nested ({deepest} levels of brackets and {ops} operators; "
                f"the limit is {MAX_EXPR_NESTING} together): not parsed")
    return None


def parse(expr: str) -> Any:
    """``promql_parser.parse`` behind the complexity guard; ``ValueError`` for anything it
    refuses or cannot parse (the one way moncheck parses PromQL)."""
    why = complexity_error(expr)
    if why is not None:
        raise ValueError(why)
    try:
        return pp.parse(expr)
    except (ValueError, TypeError) as e:
        raise ValueError(str(e) or "invalid PromQL") from None
    except BaseException as e:  # the Rust parser may panic on exotic input
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise ValueError(f"invalid PromQL ({type(e).__name__})") from None


COUNTER_FUNCS = frozenset({"rate", "irate", "increase"})
# Range functions over events: one event makes them non-zero for exactly the range.
EVENT_FUNCS = frozenset({"rate", "irate", "increase", "changes", "resets", "count_over_time"})
# Functions whose result has no labels; others keep the labels of their first vector argument.
_NO_LABELS = frozenset({"vector", "time", "scalar", "pi"})


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # "=", "!=", "=~", "!~"
    value: str


@dataclass(frozen=True)
class Selector:
    name: str | None  # None for {__name__=~"..."} or name-less selectors
    matchers: tuple[Matcher, ...]
    range_func: str | None  # function directly applied to the range selector (rate, increase...)
    is_range: bool


@dataclass(frozen=True)
class Labels:
    """Labels a result may carry: ``known`` for sure; if ``open``, also any input label that is
    not in ``removed`` (used when an input's labels are unknown)."""

    known: frozenset[str] = frozenset()
    open: bool = False
    removed: frozenset[str] = frozenset()

    def has(self, label: str) -> bool | None:
        """True: present; False: certainly absent; None: unknown."""
        if label in self.known:
            return True
        if self.open and label not in self.removed:
            return None
        return False

    def keep(self, names: frozenset[str]) -> Labels:
        if self.open:
            return Labels(frozenset(names) - self.removed, False)
        return Labels(self.known & names, False)

    def drop(self, names: frozenset[str]) -> Labels:
        return Labels(self.known - names, self.open, self.removed | names)

    def add(self, names: frozenset[str]) -> Labels:
        return Labels(self.known | names, self.open, self.removed - names)

    def union(self, other: Labels) -> Labels:
        if self.open and other.open:
            removed = self.removed & other.removed
        elif self.open:
            removed = self.removed - other.known
        else:
            removed = other.removed - self.known
        return Labels(self.known | other.known, self.open or other.open, removed)


OPEN = Labels(open=True)
EMPTY = Labels()


@dataclass(frozen=True)
class Quantile:
    """One histogram_quantile call: its bucket selectors and whether ``le`` reaches it."""

    selectors: tuple[Selector, ...]
    le_kept: bool | None


@dataclass
class Analysis:
    expr: str
    error: str | None = None
    ast: Any = None
    selectors: list[Selector] = field(default_factory=list)
    quantiles: list[Quantile] = field(default_factory=list)
    agg_labels: list[tuple[tuple[str, ...], Any]] = field(default_factory=list)
    """(by-labels, aggregated sub-expression) for each ``by`` aggregation."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def metric_names(self) -> set[str]:
        return {s.name for s in self.selectors if s.name}


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _op(m: Any) -> str:
    return _OPS.get(str(m.op).rsplit(".", 1)[-1], str(m.op))


def _selector(vs: Any, range_func: str | None, is_range: bool) -> Selector:
    matchers = tuple(Matcher(m.name, _op(m), m.value) for m in vs.matchers.matchers)
    name = vs.name
    if not name:
        eq = [m.value for m in matchers if m.name == "__name__" and m.op == "="]
        name = eq[0] if eq else None
    return Selector(name, tuple(m for m in matchers if m.name != "__name__"), range_func, is_range)


def _collect(node: Any, out: Analysis, parent_func: str | None = None) -> list[Selector]:
    """Walk the AST; returns the selectors under ``node`` (for quantile attribution)."""
    if isinstance(node, pp.VectorSelector):
        s = _selector(node, parent_func, False)
        out.selectors.append(s)
        return [s]
    if isinstance(node, pp.MatrixSelector):
        s = _selector(node.vector_selector, parent_func, True)
        out.selectors.append(s)
        return [s]
    if isinstance(node, pp.Call):
        name = node.func.name
        sels: list[Selector] = []
        for a in node.args:
            sels += _collect(a, out, name)
        if name == "histogram_quantile" and len(node.args) == 2:
            inner = _bucket_selectors(node.args[1])
            le = labels_of_node(node.args[1], lambda _n: OPEN).has("le")
            out.quantiles.append(Quantile(tuple(inner), le is not False))
        return sels
    if isinstance(node, pp.AggregateExpr):
        sels = _collect(node.expr, out)
        if node.param is not None:
            sels += _collect(node.param, out)
        mod = node.modifier
        if mod is not None and mod.type == pp.AggModifierType.By:
            out.agg_labels.append((tuple(mod.labels), node.expr))
        return sels
    if isinstance(node, pp.BinaryExpr):
        return _collect(node.lhs, out) + _collect(node.rhs, out)
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return _collect(node.expr, out)
    return []


def matrix_ranges(node: Any) -> list[Any]:
    """The ranges (timedeltas) of every range selector and subquery under ``node``."""
    out: list[Any] = []

    def visit(n: Any) -> None:
        if isinstance(n, pp.MatrixSelector):
            out.append(n.range)
        elif isinstance(n, pp.SubqueryExpr):
            out.append(n.range)
            visit(n.expr)
        elif isinstance(n, pp.Call):
            for a in n.args:
                visit(a)
        elif isinstance(n, pp.AggregateExpr):
            visit(n.expr)
        elif isinstance(n, pp.BinaryExpr):
            visit(n.lhs)
            visit(n.rhs)
        elif isinstance(n, (pp.ParenExpr, pp.UnaryExpr)):
            visit(n.expr)

    visit(node)
    return out


def bucket_side(node: Any) -> Any:
    """The sub-expressions of a ``histogram_quantile`` input that carry the buckets: a join with
    an info metric (``* on (instance) group_left (team) info``) adds labels, not buckets."""
    node_ = node
    while isinstance(node_, pp.ParenExpr):
        node_ = node_.expr
    if isinstance(node_, pp.BinaryExpr):
        card = str(getattr(node_.modifier, "card", "")) if node_.modifier is not None else ""
        op = str(node_.op)
        if "ManyToOne" in card or op in ("and", "unless") or _is_scalar(node_.rhs):
            return bucket_side(node_.lhs)
        if "OneToMany" in card or _is_scalar(node_.lhs):
            return bucket_side(node_.rhs)
    return node


def _bucket_selectors(node: Any) -> list[Selector]:
    """Selectors on the bucket side of every binary expression under ``node``."""
    if isinstance(node, (pp.AggregateExpr, pp.ParenExpr, pp.UnaryExpr)):
        return _bucket_selectors(node.expr)
    if isinstance(node, pp.BinaryExpr):
        side = bucket_side(node)
        return _bucket_selectors(side) if side is not node else _selectors_under(node)
    return _selectors_under(node)


def _selectors_under(node: Any) -> list[Selector]:
    tmp = Analysis("")
    _collect(node, tmp)
    return tmp.selectors


@lru_cache(maxsize=65536)
def analyze(expr: str) -> Analysis:
    """Parse and analyse ``expr`` (cached). ``Analysis.error`` holds the parse error."""
    a = Analysis(expr)
    try:
        a.ast = parse(expr)
    except ValueError as e:
        a.error = str(e)
        return a
    _collect(a.ast, a)
    return a


LabelsOf = Callable[[str], Labels]


def _str_arg(node: Any) -> str | None:
    return node.val if isinstance(node, pp.StringLiteral) else None


def labels_of_node(node: Any, labels_of: LabelsOf) -> Labels:
    """Labels the result of ``node`` keeps; ``labels_of(metric)`` gives a selector's labels."""
    if isinstance(node, pp.VectorSelector):
        sel = _selector(node, None, False)
        return labels_of(sel.name) if sel.name else OPEN
    if isinstance(node, pp.MatrixSelector):
        return labels_of_node(node.vector_selector, labels_of)
    if isinstance(node, (pp.NumberLiteral, pp.StringLiteral)):
        return EMPTY
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return labels_of_node(node.expr, labels_of)
    if isinstance(node, pp.Call):
        name, args = node.func.name, node.args
        if name in _NO_LABELS:
            return EMPTY
        if name in ("absent", "absent_over_time"):
            sels = _selectors_under(args[0]) if args else []
            eq = {m.name for s in sels for m in s.matchers if m.op == "="}
            return Labels(frozenset(eq))
        if name in ("label_replace", "label_join") and len(args) >= 2:
            dst = _str_arg(args[1])
            base = labels_of_node(args[0], labels_of)
            return base.add(frozenset({dst})) if dst else base
        if name == "histogram_quantile" and len(args) == 2:
            return labels_of_node(args[1], labels_of).drop(frozenset({"le"}))
        vec = [a for a in args if not isinstance(a, (pp.NumberLiteral, pp.StringLiteral))]
        if not vec:
            return EMPTY
        return labels_of_node(vec[0], labels_of)
    if isinstance(node, pp.AggregateExpr):
        inner = labels_of_node(node.expr, labels_of)
        op = str(node.op)
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        mod = node.modifier
        if mod is None:
            res = EMPTY
        elif mod.type == pp.AggModifierType.By:
            res = inner.keep(frozenset(mod.labels))
        else:
            res = inner.drop(frozenset(mod.labels))
        if op == "count_values" and (lbl := _str_arg(node.param)):
            res = res.add(frozenset({lbl}))
        return res
    if isinstance(node, pp.BinaryExpr):
        lhs = labels_of_node(node.lhs, labels_of)
        rhs = labels_of_node(node.rhs, labels_of)
        lscalar = _is_scalar(node.lhs)
        rscalar = _is_scalar(node.rhs)
        if lscalar and rscalar:
            return EMPTY
        if lscalar:
            return rhs
        if rscalar:
            return lhs
        op = str(node.op)
        bmod = node.modifier
        if op == "or":
            return lhs.union(rhs)
        if op in ("and", "unless"):
            return lhs
        card = str(getattr(bmod, "card", "")) if bmod is not None else ""
        matching = getattr(bmod, "matching", None) if bmod is not None else None
        group = frozenset(getattr(bmod, "group_labels", None) or [])
        if "ManyToOne" in card:
            return lhs.add(group)
        if "OneToMany" in card:
            return rhs.add(group)
        if matching is not None and matching.type == pp.LabelModifierType.Include:
            return lhs.keep(frozenset(matching.labels))
        if matching is not None:
            return lhs.drop(frozenset(matching.labels))
        return lhs
    return OPEN


def _is_scalar(node: Any) -> bool:
    while isinstance(node, (pp.ParenExpr, pp.UnaryExpr)):
        node = node.expr
    if isinstance(node, pp.NumberLiteral):
        return True
    if isinstance(node, pp.Call) and node.func.name in ("scalar", "time", "pi"):
        return True
    if isinstance(node, pp.BinaryExpr):
        return _is_scalar(node.lhs) and _is_scalar(node.rhs)
    return False


def result_labels(expr: str, labels_of: LabelsOf) -> Labels | None:
    """Labels the result of ``expr`` keeps, or None if it does not parse."""
    a = analyze(expr)
    if not a.ok:
        return None
    return labels_of_node(a.ast, labels_of)


# ------------------------------------------------------------------ Grafana query templating

_RANGE_VAR = re.compile(r"\[\s*(\$\{?\w+(?::\w+)?\}?|\[\[\w+\]\])\s*(:\s*(\$\{?\w+\}?|[0-9a-z]+)?)?\s*\]")
_VAR = re.compile(r"\$\{[^}]*\}|\$__\w+|\$\w+|\[\[\w+(?::\w+)?\]\]")


def strip_grafana_vars(expr: str) -> str:
    """Replace Grafana template variables so a dashboard query parses as PromQL."""
    expr = _RANGE_VAR.sub(lambda m: "[5m:]" if m.group(2) else "[5m]", expr)  # keep subqueries subqueries
    expr = re.sub(r"offset\s+-?\$\{?\w+\}?", "offset 5m", expr)
    # A variable as a number argument (`topk($k, ...)`, `quantile_over_time($q, ...)`).
    expr = re.sub(r"\(\s*(\$\{?\w+\}?|\[\[\w+\]\])\s*,", "(1,", expr)
    # A variable as a binary operator (`x{...} $op on (k) y`): right after an operand, then a space.
    expr = re.sub(r"(?<=[})\]])(\s*)\$\{?\w+\}?(?=\s)", r"\1 and", expr)
    return _VAR.sub("var", expr)


_COMPARISONS = {">", ">=", "<", "<="}


def _unparen(node: Any) -> Any:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def quantile_thresholds(expr: str) -> list[tuple[Any, float]]:
    """(quantile side, threshold) of each ``<quantile> OP <number>`` comparison in ``expr``.

    The quantile side is a histogram_quantile ``Call`` or a ``VectorSelector`` (perhaps a
    recording rule of one); callers decide which they can resolve to bucket bounds."""
    a = analyze(expr)
    if not a.ok:
        return []
    out: list[tuple[Any, float]] = []

    def visit(node: Any) -> None:
        node = _unparen(node)
        if isinstance(node, pp.BinaryExpr):
            op = str(node.op)
            lhs, rhs = _unparen(node.lhs), _unparen(node.rhs)
            if op in _COMPARISONS:
                if isinstance(rhs, pp.NumberLiteral) and isinstance(lhs, (pp.Call, pp.VectorSelector)):
                    out.append((lhs, float(rhs.val)))
                elif isinstance(lhs, pp.NumberLiteral) and isinstance(rhs, (pp.Call, pp.VectorSelector)):
                    out.append((rhs, float(lhs.val)))
            visit(node.lhs)
            visit(node.rhs)
        elif isinstance(node, (pp.UnaryExpr, pp.SubqueryExpr, pp.AggregateExpr)):
            visit(node.expr)

    visit(a.ast)
    return out


def quantile_call(node: Any) -> Any | None:
    """``node`` itself if it is a histogram_quantile call, else None."""
    node = _unparen(node)
    return node if isinstance(node, pp.Call) and node.func.name == "histogram_quantile" else None
