"""A discrete model of the generated SLO rules, to choose test scenarios that kill mutants.

Time is in minutes. A workload gives, per minute, how many good and bad events happen; promtool
input series sample the cumulative counters once a minute. The model computes each recorded
error ratio as Prometheus 2.x's ``rate`` does on such samples (closed range, extrapolation to
the range start, zero point at the first sample), evaluates the alerts every evaluation interval
with their ``for``, and does the same for *mutants*: the generated rules changed as
``moncheck mutate`` changes them (thresholds scaled, comparisons flipped, a condition or pair
dropped or never matching, ``and``/``or`` swapped, ``for`` changed, a recording rule's range
halved or doubled, ``rate`` replaced on one side).

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


@dataclass(frozen=True)
class Ratio:
    """How one recorded error ratio is computed (the generated rule, or a mutant of it)."""

    window: float  # minutes
    err_fn: str = "rate"  # rate | irate | increase (only on the error side, or the total side)
    tot_fn: str = "rate"


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
             for_ms: int) -> Alert:
    def cond(win_ms: int, w: Window) -> Cond:
        return Cond(Ratio(_minutes(win_ms)), ws.factor(w) * budget)
    return Alert(severity, (Pair(cond(quick.short_ms, quick), cond(quick.long_ms, quick)),
                            Pair(cond(slow.short_ms, slow), cond(slow.long_ms, slow))),
                 _minutes(for_ms))


@dataclass
class Workload:
    """Per-minute good and bad events; index 0 is the (empty) minute before the first sample."""

    good: Arr
    bad: Arr

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
        self.cum_bad = np.cumsum(work.bad)
        self.cum_tot = np.cumsum(work.good + work.bad)
        self._cache: dict[tuple[Ratio, bool], Arr] = {}
        # id -> (the object, kept alive so its id is not reused; its arrays)
        self._states: dict[int, tuple[Alert, tuple[BArr, BArr]]] = {}
        self._conds: dict[int, tuple[Cond, tuple[BArr, BArr]]] = {}
        self._pairs: dict[int, tuple[Pair, tuple[BArr, BArr]]] = {}

    def ratio(self, r: Ratio, open_left: bool = False) -> Arr:
        key = (r, open_left)
        if key not in self._cache:
            e = _rate(self.cum_bad, self.t, r.window, r.err_fn, open_left)
            tot = _rate(self.cum_tot, self.t, r.window, r.tot_fn, open_left)
            with np.errstate(invalid="ignore", divide="ignore"):
                self._cache[key] = e / tot
        return self._cache[key]

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
                label = f"{_fmt_min(c.ratio.window)} condition"
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
                put(i, f"{label} dropped (only the {_fmt_min(getattr(p, other).ratio.window)} "
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
    # Recording rules: one window's rule changed affects every condition that reads it.
    windows = sorted({c.ratio.window for a in alerts for p in a.pairs
                      for c in (p.short, p.long) if c is not None})
    for w in windows:
        for name, new in ((f"{_fmt_min(w)} rule range halved", Ratio(w / 2)),
                          (f"{_fmt_min(w)} rule range doubled", Ratio(w * 2)),
                          (f"{_fmt_min(w)} rule errors irate", Ratio(w, err_fn="irate")),
                          (f"{_fmt_min(w)} rule errors increase", Ratio(w, err_fn="increase")),
                          (f"{_fmt_min(w)} rule total irate", Ratio(w, tot_fn="irate")),
                          (f"{_fmt_min(w)} rule total increase", Ratio(w, tot_fn="increase"))):
            out.append(Mutant(f"sli: {name}", tuple(_swap_ratio(a, w, new) for a in alerts)))
    return out


def _with_side(p: Pair, side: str, c: Cond | None) -> Pair:
    return replace(p, short=c) if side == "short" else replace(p, long=c)


def _swap_ratio(a: Alert, window: float, new: Ratio) -> Alert:
    def sw(c: Cond | None) -> Cond | None:
        return replace(c, ratio=new) if c is not None and c.ratio.window == window else c
    return replace(a, pairs=tuple(replace(p, short=sw(p.short), long=sw(p.long))
                                  for p in a.pairs))


def _fmt_min(m: float) -> str:
    if m >= 1440 and m % 1440 == 0:
        return f"{int(m // 1440)}d"
    if m >= 60 and m % 60 == 0:
        return f"{int(m // 60)}h"
    return f"{m:g}m"
