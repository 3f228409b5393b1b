"""A discrete model of the generated SLO rules, to choose test scenarios that kill mutants.

Time is in minutes. A workload gives, per minute, how many good and bad events happen, and how
many decoy events (series the SLI must not read); promtool input series sample the cumulative
counters once a minute. Each side of the SLI is a sum of terms (``Sli``), each what one selector
reads of those series (``testgen.model_sli``). The model computes each recorded error ratio as
Prometheus 2.x's ``rate`` does on such samples (closed range, extrapolation to the range start,
zero point at the first sample), evaluates the alerts every evaluation interval with their
``for``, and does the same for *mutants*: the generated rules changed as ``moncheck mutate``
changes them (thresholds scaled, comparisons flipped, a condition or pair dropped or never
matching, ``and``/``or`` swapped, ``for`` changed; in a recording rule one selector's function,
range, ``sum`` -> ``avg``, or a matcher removed or negated).

Every conclusion is only used where it is *robust*: a condition within ``MARGIN`` of its
threshold, or whose truth differs with a left-open range (Prometheus 3.x), counts as unknown,
and a state is only asserted where it holds whatever those unknown conditions are, so float
rounding and range-boundary conventions cannot change a test's expectation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from moncheck.slo.windows import Window, Windows

MARGIN = 0.04  # relative distance from a threshold for a condition to count as robust
Arr = npt.NDArray[np.float64]
BArr = npt.NDArray[np.bool_]


# Per event, how much a selected series set grows: (good, bad, decoy good, decoy bad). Decoys
# are series the SLI must not read (another job, an excluded route): a matcher mutant reads them.
Coef = tuple[float, float, float, float]
BAD: Coef = (0.0, 1.0, 0.0, 0.0)
ALL: Coef = (1.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Alt:
    """What one term reads when one of its matchers is removed or negated."""

    name: str  # e.g. 'job="api" removed'
    coef: Coef
    n: int  # series selected (0: none, so the whole ratio is empty)


@dataclass(frozen=True)
class Term:
    """``sign * sum(fn(selector[window * stretch]))``: one summand of an SLI side."""

    coef: Coef = BAD
    sign: float = 1.0
    n: int = 1  # series the selector picks in the generated input (``avg`` divides by it)
    fn: str = "rate"  # rate | irate | increase
    stretch: float = 1.0  # range multiple (a mutant halves or doubles one selector's range)
    avg: bool = False  # sum -> avg
    agg: bool = True  # inside sum(...): the avg mutant applies
    alts: tuple[Alt, ...] = ()
    label: str = ""  # how mutant names call it


@dataclass(frozen=True)
class Sli:
    """The two sides of an SLI as sums of terms (the window comes with each Ratio)."""

    err: tuple[Term, ...] = (Term(BAD, label="errors"),)
    tot: tuple[Term, ...] = (Term(ALL, label="total"),)


DEFAULT_SLI = Sli()


@dataclass(frozen=True)
class Ratio:
    """How one recorded error ratio is computed (the generated rule, or a mutant of it)."""

    window: float  # minutes
    err: tuple[Term, ...] = DEFAULT_SLI.err
    tot: tuple[Term, ...] = DEFAULT_SLI.tot


@dataclass(frozen=True)
class Cond:
    ratio: Ratio
    threshold: float
    op: str = ">"  # ">" or "<" (direction flipped)
    dead: bool = False  # selects nothing (a matcher or grouping mutant)


@dataclass(frozen=True)
class Pair:
    short: Cond | None
    long: Cond | None
    op: str = "and"
    dead: bool = False


@dataclass(frozen=True)
class Alert:
    severity: str
    pairs: tuple[Pair, ...]
    for_min: float
    top: str = "or"


@dataclass(frozen=True)
class Mutant:
    name: str  # e.g. "page: 5m condition threshold x2"
    alerts: tuple[Alert, ...]


def _minutes(ms: int) -> float:
    return ms / 60_000


def alert_of(severity: str, ws: Windows, quick: Window, slow: Window, budget: float,
             for_ms: int, sli: Sli = DEFAULT_SLI) -> Alert:
    def cond(win_ms: int, w: Window) -> Cond:
        return Cond(Ratio(_minutes(win_ms), sli.err, sli.tot), ws.factor(w) * budget)
    return Alert(severity, (Pair(cond(quick.short_ms, quick), cond(quick.long_ms, quick)),
                            Pair(cond(slow.short_ms, slow), cond(slow.long_ms, slow))),
                 _minutes(for_ms))


@dataclass
class Workload:
    """Per-minute good and bad events, of the SLI's own series and of its decoys; index 0 is
    the (empty) minute before the first sample."""

    good: Arr
    bad: Arr
    decoy_good: Arr | None = None  # None: no decoy events
    decoy_bad: Arr | None = None

    @property
    def minutes(self) -> int:
        return len(self.good) - 1


def _rate(cum: Arr, t: npt.NDArray[np.int64], w: float, fn: str, open_left: bool) -> Arr:
    """``fn(x[w])`` at eval minutes ``t`` of a counter whose value at minute m is ``cum[m]``."""
    if fn == "irate":
        prev = np.maximum(t - 1, 0)
        out = (cum[t] - cum[prev]) / 60.0
        return np.where(t >= 1, out, np.nan)
    start = t - w
    lo = np.ceil(start - 1e-9).astype(np.int64)
    if open_left:
        # A sample exactly on the range start (windows are whole or half minutes here, so
        # "exactly" needs no tolerance beyond float noise).
        lo = np.where(np.abs(lo - start) <= 1e-9, lo + 1, lo)
    lo = np.maximum(lo, 0)
    span = (t - lo).astype(np.float64)
    delta = cum[t] - cum[lo]
    # Extrapolation: to the range start when the first sample is within 1.1 intervals of it,
    # and a counter that starts at 0 (lo == 0) is extrapolated to zero, i.e. not at all.
    d0 = np.where(lo == 0, 0.0, lo - start)
    with np.errstate(invalid="ignore", divide="ignore"):
        inc = delta * (span + d0) / span
        out = inc if fn == "increase" else inc / (60.0 * w)
    return np.where(span >= 1, out, np.nan)


class Evaluator:
    """Ratios and alert states of one workload at its evaluation times."""

    def __init__(self, work: Workload, interval: int) -> None:
        self.work = work
        self.interval = interval
        self.t = np.arange(0, work.minutes + 1, interval, dtype=np.int64)
        zero = np.zeros(len(work.good))
        self._streams = (work.good, work.bad,
                         zero if work.decoy_good is None else work.decoy_good,
                         zero if work.decoy_bad is None else work.decoy_bad)
        self._cums: dict[Coef, Arr] = {}
        self._cache: dict[tuple[int, bool], tuple[Ratio, Arr]] = {}
        # id -> (the object, kept alive so its id is not reused; its arrays)
        self._states: dict[int, tuple[Alert, tuple[BArr, BArr]]] = {}
        self._conds: dict[int, tuple[Cond, tuple[BArr, BArr]]] = {}
        self._pairs: dict[int, tuple[Pair, tuple[BArr, BArr]]] = {}

    def _cum(self, coef: Coef) -> Arr:
        if coef not in self._cums:
            x = np.zeros(len(self._streams[0]))
            for k, v in zip(coef, self._streams):
                if k:
                    x = x + k * v
            self._cums[coef] = np.cumsum(x)
        return self._cums[coef]

    def _side(self, terms: tuple[Term, ...], window: float, open_left: bool) -> Arr:
        out = np.zeros(len(self.t))
        for tm in terms:
            if tm.n == 0:  # sum() of nothing: no series, so no ratio at all
                return np.full(len(self.t), np.nan)
            v = _rate(self._cum(tm.coef), self.t, window * tm.stretch, tm.fn, open_left)
            out = out + tm.sign * (v / tm.n if tm.avg else v)
        return out

    def ratio(self, r: Ratio, open_left: bool = False) -> Arr:
        key = (id(r), open_left)  # by identity, as _cond (r kept alive in the entry)
        if key not in self._cache:
            e = self._side(r.err, r.window, open_left)
            tot = self._side(r.tot, r.window, open_left)
            with np.errstate(invalid="ignore", divide="ignore"):
                self._cache[key] = (r, e / tot)
        return self._cache[key][1]

    def _cond(self, c: Cond) -> tuple[BArr, BArr]:
        """(surely true, possibly true) of one condition at every evaluation time."""
        # Keyed by identity: mutants share the unchanged Cond/Pair objects, and hashing nested
        # frozen dataclasses costs more than the arrays do.
        k = id(c)
        if k not in self._conds:
            self._conds[k] = (c, self._cond_uncached(c))
        return self._conds[k][1]

    def _cond_uncached(self, c: Cond) -> tuple[BArr, BArr]:
        if c.dead:
            no = np.zeros(len(self.t), dtype=bool)
            return no, no
        vals = []
        near = np.zeros(len(self.t), dtype=bool)
        for open_left in (False, True):
            v = self.ratio(c.ratio, open_left)
            with np.errstate(invalid="ignore"):
                vals.append((v > c.threshold if c.op == ">" else v < c.threshold) & ~np.isnan(v))
                if c.threshold > 0:
                    near |= np.abs(v - c.threshold) <= MARGIN * c.threshold
                else:  # 0 errors give exactly 0: only tiny non-zero ratios are doubtful
                    near |= (np.abs(v) > 0) & (np.abs(v) < 1e-9)
        near |= vals[0] != vals[1]
        return vals[0] & ~near, vals[0] | near

    def _pair(self, p: Pair) -> tuple[BArr, BArr]:
        k = id(p)
        if k not in self._pairs:
            self._pairs[k] = (p, self._pair_uncached(p))
        return self._pairs[k][1]

    def _pair_uncached(self, p: Pair) -> tuple[BArr, BArr]:
        if p.dead:
            no = np.zeros(len(self.t), dtype=bool)
            return no, no
        sides = [self._cond(c) for c in (p.short, p.long) if c is not None]
        if len(sides) == 1:
            return sides[0]
        (s_lo, s_hi), (l_lo, l_hi) = sides
        if p.op == "and":
            return s_lo & l_lo, s_hi & l_hi
        return s_lo | l_lo, s_hi | l_hi

    def _expr(self, a: Alert) -> tuple[BArr, BArr]:
        parts = [self._pair(p) for p in a.pairs]
        lo, hi = parts[0]
        for p_lo, p_hi in parts[1:]:
            if a.top == "or":
                lo, hi = lo | p_lo, hi | p_hi
            else:
                lo, hi = lo & p_lo, hi & p_hi
        return lo, hi

    def _firing(self, active: BArr, for_min: float) -> BArr:
        n = len(active)
        starts = active & ~np.concatenate(([False], active[:-1]))
        run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        return np.asarray(active & (self.t - self.t[run_start] >= for_min - 1e-9))

    def state(self, a: Alert) -> tuple[BArr, BArr]:
        """(firing, robust) per evaluation time. The rules are monotone in their conditions,
        so firing with every doubtful condition false and with every one true bound all
        outcomes: where both agree, the state is certain."""
        k = id(a)
        if k not in self._states:
            lo, hi = self._expr(a)
            f_lo, f_hi = self._firing(lo, a.for_min), self._firing(hi, a.for_min)
            self._states[k] = (a, (f_lo, f_lo == f_hi))
        return self._states[k][1]

    def pair_state(self, p: Pair) -> tuple[BArr, BArr]:
        lo, hi = self._pair(p)
        return lo, lo == hi


def mutants(alerts: tuple[Alert, ...]) -> list[Mutant]:
    """The model's mutants of the generated alert and SLI rules (see the module docstring)."""
    out: list[Mutant] = []

    def put(i: int, name: str, a: Alert) -> None:
        al = list(alerts)
        al[i] = a
        out.append(Mutant(f"{alerts[i].severity}: {name}", tuple(al)))

    for i, a in enumerate(alerts):
        for j, p in enumerate(a.pairs):
            pairs = list(a.pairs)
            for side in ("short", "long"):
                c = getattr(p, side)
                assert c is not None
                label = f"{fmt_minutes(c.ratio.window)} condition"
                other = "long" if side == "short" else "short"
                variants = [(f"{label} threshold x{k:g}", replace(c, threshold=c.threshold * k))
                            for k in (0.1, 0.5, 2, 10)]
                variants += [(f"{label} comparison flipped", replace(c, op="<")),
                             (f"{label} selects nothing", replace(c, dead=True))]
                for name, nc in variants:
                    if nc == c:  # a threshold of 0 (objective 100) scales to itself
                        continue
                    pairs[j] = _with_side(p, side, nc)
                    put(i, name, replace(a, pairs=tuple(pairs)))
                pairs[j] = _with_side(p, side, None)
                put(i, f"{label} dropped (only the {fmt_minutes(getattr(p, other).ratio.window)} "
                       "one left)", replace(a, pairs=tuple(pairs)))
            pairs = list(a.pairs)
            pairs[j] = replace(p, op="or")
            put(i, f"pair {j + 1}: and -> or", replace(a, pairs=tuple(pairs)))
            pairs[j] = replace(p, dead=True)
            put(i, f"pair {j + 1} never matches", replace(a, pairs=tuple(pairs)))
            put(i, f"pair {j + 1} dropped",
                replace(a, pairs=tuple(q for k, q in enumerate(a.pairs) if k != j)))
        put(i, "or -> and", replace(a, top="and"))
        for name, f in (("for removed", 0.0), ("for halved", a.for_min / 2),
                        ("for doubled", a.for_min * 2)):
            if f != a.for_min:
                put(i, name, replace(a, for_min=f))
    # Recording rules: one window's rule changed affects every condition that reads it. As
    # `moncheck mutate` changes them: one selector's function, range, aggregation or matcher.
    ratios = {c.ratio.window: c.ratio for a in alerts for p in a.pairs
              for c in (p.short, p.long) if c is not None}
    for w in sorted(ratios):
        r = ratios[w]
        for side in ("err", "tot"):
            terms: tuple[Term, ...] = getattr(r, side)
            for j, tm in enumerate(terms):
                label = tm.label or f"{side} term {j + 1}"
                variants = [(fn, replace(tm, fn=fn)) for fn in ("irate", "increase")
                            if fn != tm.fn]
                if tm.fn != "rate":
                    variants.append(("rate", replace(tm, fn="rate")))
                variants += [("range halved", replace(tm, stretch=tm.stretch / 2)),
                             ("range doubled", replace(tm, stretch=tm.stretch * 2))]
                if tm.agg and tm.n > 1:
                    variants.append(("sum -> avg", replace(tm, avg=True)))
                variants += [(alt.name, replace(tm, coef=alt.coef, n=alt.n)) for alt in tm.alts]
                for name, nt in variants:
                    changed = (*terms[:j], nt, *terms[j + 1:])
                    new = replace(r, err=changed) if side == "err" else replace(r, tot=changed)
                    out.append(Mutant(f"sli: {fmt_minutes(w)} rule {label} {name}",
                                      tuple(_swap_ratio(a, w, new) for a in alerts)))
    return out


def _with_side(p: Pair, side: str, c: Cond | None) -> Pair:
    return replace(p, short=c) if side == "short" else replace(p, long=c)


def _swap_ratio(a: Alert, window: float, new: Ratio) -> Alert:
    def sw(c: Cond | None) -> Cond | None:
        return replace(c, ratio=new) if c is not None and c.ratio.window == window else c
    return replace(a, pairs=tuple(replace(p, short=sw(p.short), long=sw(p.long))
                                  for p in a.pairs))


def fmt_minutes(m: float) -> str:
    """A window in minutes as its mutants and tests name it: 5m, 1h, 3d."""
    if m >= 1440 and m % 1440 == 0:
        return f"{int(m // 1440)}d"
    if m >= 60 and m % 60 == 0:
        return f"{int(m // 60)}h"
    return f"{m:g}m"
