"""Test cases for ``>`` -> ``>=`` on a burn condition: the recorded ratio exactly at its threshold.

Such a mutant differs from the generated rule only where the ratio equals ``factor * budget`` to
the last bit, so the burn model (which concludes only a margin away from thresholds) cannot
choose its tests. A case is built so that the ratio is the threshold at one evaluation, in
Prometheus 2.x and 3.x alike, with ``promfloat`` computing what each computes:

- Every series the SLI reads comes in two copies (under the label that tells halves apart): an
  *old* one, sampled until two minutes before the condition's range starts, and a *new* one
  that starts at 0 on the range's first minute. At the minute ``t`` the condition's range holds
  only new samples, so both range conventions read the same two samples of each series and
  extrapolate nothing, and no history blurs the last bit.
- One new series' sample at ``t`` is solved for (bisection over doubles, then the neighbours)
  so that the computed ratio is the threshold; the integer events around it are shifted until
  one is.
- The rest decides the alerts: for a short window, an earlier burn in the old series keeps the
  pair's long window over its threshold; for a long window, the new series end in a burn that
  keeps the short window over. After ``t`` the burn goes on for the ``for`` duration. Every
  other condition is computed too (both conventions) and must be ``MARGIN`` clear of its
  threshold wherever the case relies on it.

At the check (``t`` plus ``for``, in evaluation steps) the generated alert is not firing: its
condition failed at ``t``. With ``>=`` it held throughout, so the alert fires. The test also
asserts the premise, ``count(ratio == threshold)`` at ``t``: a Prometheus that rounded
differently fails that, with that message, rather than pass.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from moncheck.slo import promfloat
from moncheck.slo.burnmodel import MARGIN, Alert, Cond, Pair, fmt_minutes

TRIES = 20_000  # shifts tried per design (a difference of rates takes about 1/threshold)
QUIET_TRAFFIC = 10  # the quiet lead's traffic, a multiple of the burns' (as in scenarios)
VERSIONS = (2, 3)
# Minutes between evaluations, tried in order: a case only needs the evaluations at the
# equality and the check, and every evaluation reads days of one-minute samples for the long
# windows, so the longest step that works is the cheapest (testgen puts each in its file).
INTERVALS = (360, 30, 1)


@dataclass(frozen=True)
class Reads:
    """The series the SLI reads (no halves, no decoys): each one's growth per good and per bad
    event, and for each term of each side the indices of the series it picks."""

    coefs: tuple[tuple[int, int], ...]
    err: tuple[tuple[int, ...], ...]
    tot: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Track:
    """One input series: its samples from minute ``start`` on, one a minute."""

    start: int
    values: tuple[float, ...]

    def __getitem__(self, minute: int) -> float:
        return self.values[minute - self.start]

    @property
    def end(self) -> int:
        return self.start + len(self.values) - 1


@dataclass(frozen=True)
class Case:
    severity: str
    window: int  # minutes: the condition's range
    interval: int  # minutes between evaluations
    old: tuple[Track, ...]  # per series of Reads.coefs
    new: tuple[Track, ...]
    at: int  # the minute the ratio is the threshold
    check: int  # the minute the alerts are asserted
    firing: tuple[str, ...]  # severities firing at ``check`` (never this one)
    threshold: float


def mutant_name(severity: str, window: int) -> str:
    return f"{severity}: {fmt_minutes(window)} condition > -> >= (the ratio exactly at its threshold)"


def cases(alerts: tuple[Alert, ...], reads: Reads | None, base: int
          ) -> tuple[list[Case], list[str]]:
    """One case per burn condition, and the names of the conditions none could be built for.
    ``base``: events a minute of the burns."""
    return _cases(alerts, reads, base)


@functools.lru_cache(maxsize=256)
def _cases(alerts: tuple[Alert, ...], reads: Reads | None, base: int
           ) -> tuple[list[Case], list[str]]:
    out: list[Case] = []
    missing: list[str] = []
    ok = reads is not None and all(_emulable(c, reads) for a in alerts for p in a.pairs
                                   for c in (p.short, p.long) if c is not None)
    for ai, a in enumerate(alerts):
        for pi, p in enumerate(a.pairs):
            for side in ("short", "long"):
                x = getattr(p, side)
                assert x is not None
                case = _case(alerts, ai, pi, side, reads, base) if ok and reads else None
                if case is None:
                    missing.append(mutant_name(a.severity, int(x.ratio.window)))
                else:
                    out.append(case)
    return out, missing


def _emulable(c: Cond, reads: Reads) -> bool:
    for terms, picked in ((c.ratio.err, reads.err), (c.ratio.tot, reads.tot)):
        if len(terms) != len(picked) or not 1 <= len(terms) <= 2 or c.dead:
            return False
        for tm, ser in zip(terms, picked):
            # At the equality each term sums one or two series exactly (promfloat.vsum).
            if tm.stretch != 1 or tm.avg or not tm.agg or not 1 <= len(ser) <= 2:
                return False
    return int(c.ratio.window) == c.ratio.window


# --- evaluation of a case's input, both range conventions ------------------------------------


def _side(terms: tuple, picked: tuple[tuple[int, ...], ...], tracks: tuple[Track, ...],
          t: int, w: int, v: int) -> float | None:
    acc: float | None = None
    for tm, idx in zip(terms, picked):
        vals = []
        for i in idx:
            for tr in (tracks[2 * i], tracks[2 * i + 1]):
                r = promfloat.counter_fn(tr, t, w, tm.fn, v, tr.start, tr.end)
                if r is not None:
                    vals.append(r)
        if not vals:
            return None  # sum() of no series: no sample, so no ratio
        val = promfloat.vsum(vals) if len(vals) <= 2 else math.fsum(vals)
        val = val if tm.sign > 0 else -val
        acc = val if acc is None else acc + val
    return acc


def _ratio(c: Cond, reads: Reads, tracks: tuple[Track, ...], t: int, v: int) -> float | None:
    w = int(c.ratio.window)
    e = _side(c.ratio.err, reads.err, tracks, t, w, v)
    n = _side(c.ratio.tot, reads.tot, tracks, t, w, v)
    if e is None or n is None:
        return None
    return e / n if n else math.nan


def _cond(c: Cond, reads: Reads, tracks: tuple[Track, ...], t: int) -> bool | None:
    """True or False when both conventions are MARGIN clear of the threshold on one side, else
    None (no ratio counts as false, as in Prometheus)."""
    got = set()
    for v in VERSIONS:
        r = _ratio(c, reads, tracks, t, v)
        if r is None or math.isnan(r):
            got.add(False)
        elif r > c.threshold * (1 + MARGIN) and r > 0:
            got.add(True)
        elif r < c.threshold * (1 - MARGIN):
            got.add(False)
        else:
            return None
    return got.pop() if len(got) == 1 else None


def _pair(p: Pair, reads: Reads, tracks: tuple[Track, ...], t: int) -> bool | None:
    sides = [_cond(c, reads, tracks, t) for c in (p.short, p.long) if c is not None]
    if False in sides:
        return False
    return None if None in sides else True


def _expr(a: Alert, reads: Reads, tracks: tuple[Track, ...], t: int) -> bool | None:
    pairs = [_pair(p, reads, tracks, t) for p in a.pairs]
    if True in pairs:
        return True
    return None if None in pairs else False


def _firing(a: Alert, reads: Reads, tracks: tuple[Track, ...], t: int, interval: int
            ) -> bool | None:
    """Whether ``a`` fires at ``t``: its expression held at every evaluation of the last
    ``for`` (rounded up to evaluations), which is when Prometheus's pending alert fires."""
    steps = math.ceil(a.for_min / interval - 1e-9)
    got = [_expr(a, reads, tracks, t - k * interval) for k in range(steps + 1)]
    if False in got:
        return False
    return None if None in got else True


# --- building a case --------------------------------------------------------------------------


def _case(alerts: tuple[Alert, ...], ai: int, pi: int, side: str, reads: Reads, base: int
          ) -> Case | None:
    a = alerts[ai]
    p = a.pairs[pi]
    x, y = (p.short, p.long) if side == "short" else (p.long, p.short)
    assert x is not None and y is not None
    c = x.threshold
    if not 0 < c < 1 or a.top != "or" or x.op != ">" or p.op != "and":
        return None
    w, wy = int(x.ratio.window), int(y.ratio.window)
    others = [q for k, q in enumerate(a.pairs) if k != pi]
    lead = max((int(cc.ratio.window) for q in others for cc in (q.short, q.long)
                if cc is not None), default=0)
    for interval in INTERVALS:
        after = interval * math.ceil(a.for_min / interval - 1e-9)
        # The shortest quiet lead first: the cheapest input.
        for quiet in (lead // 2, lead, 2 * lead):
            for h in (3.0, 2.0, 6.0, 1.5):
                for g in (10.0, 1.0):
                    built = _build(reads, base, w, wy, w > wy, interval, after, h * c, g, quiet,
                                   c)
                    if built is None or _robust(alerts, ai, pi, side, reads, built,
                                                interval) is None:
                        continue
                    tuned = _tune(x, reads, built)
                    if tuned is None:
                        continue
                    firing = _robust(alerts, ai, pi, side, reads, tuned, interval)
                    if firing is None:
                        continue  # pragma: no cover - tuning moves a ratio far less than MARGIN
                    return Case(a.severity, w, interval, tuned.old, tuned.new, tuned.at,
                                tuned.check, firing, c)
    return None


@dataclass(frozen=True)
class _Built:
    old: tuple[Track, ...]  # tracks[2i] / tracks[2i + 1]: old / new copy of series i
    new: tuple[Track, ...]
    at: int
    check: int
    events: tuple[tuple[int, int], ...]  # the new copies' (total, bad) per minute from s + 1
    after: tuple[int, int]  # (total, bad) a minute after the equality

    @property
    def tracks(self) -> tuple[Track, ...]:
        return _interleaved(self.old, self.new)


def _interleaved(old: tuple[Track, ...] | list[Track], new: tuple[Track, ...] | list[Track]
                 ) -> tuple[Track, ...]:
    """Series i's old copy at 2i, its new one at 2i + 1 (what ``_side`` reads)."""
    return tuple(tr for pair in zip(old, new) for tr in pair)


def _counter(start: int, coef: tuple[int, int], events: list[tuple[int, int]],
             first: float = 0.0) -> Track:
    pg, pb = coef
    vals, v = [first], first
    for tot, bad in events:
        v += pg * (tot - bad) + pb * bad
        vals.append(v)
    return Track(start, tuple(vals))


def _build(reads: Reads, base: int, w: int, wy: int, long: bool, interval: int, after: int,
           burn: float, g: float, quiet: int, c: float) -> _Built | None:
    """The input of a case, with integer events (``_tune`` then solves one sample)."""
    burn_bad = min(base, round(burn * base))
    n = w - 1  # minutes inside the left-open range after its first sample
    lead_burn = 0 if long else max(wy - w, 0) + interval
    quiet = max(quiet, interval)
    at = quiet + lead_burn + 2 + w - 1  # old ends at s - 2, new starts at s = at - n
    quiet += (-at) % interval  # the equality on an evaluation
    at = quiet + lead_burn + 2 + n
    old_events = [(QUIET_TRAFFIC * base, 0)] * quiet + [(base, burn_bad)] * lead_burn
    if long:  # the range ends in a burn the short window sees; the rest makes up the ratio
        k = wy + 1
        cold_ratio = (n - k * burn / c) / (n - k) * c if n > k else -1.0
        if not 0 <= cold_ratio < c:
            return None
        events = [(base, round(cold_ratio * base))] * (n - k) + [(base, burn_bad)] * k
    else:
        events = [(base, round(c * base))] * n
    g_tot = round(g * base)
    after_ev = (g_tot, min(g_tot, round(burn * g_tot)))
    s = at - n
    old = tuple(_counter(0, coef, old_events[:s - 1]) for coef in reads.coefs)
    assert all(tr.end == s - 2 for tr in old)
    new = tuple(_counter(s, coef, events + [after_ev] * after) for coef in reads.coefs)
    return _Built(old, new, at, at + after, tuple(events), after_ev)


def _tune(x: Cond, reads: Reads, b: _Built) -> _Built | None:
    """``b`` with one new series' sample at the equality solved for, so that the ratio is the
    threshold in both conventions; the events of the range's last minute shift by whole good
    events until that is possible (for a difference of rates, about one shift in 1/threshold
    works: the difference is only as fine as the larger rate's last place)."""
    t, c = b.at, x.threshold
    w = int(x.ratio.window)
    s = t - len(b.events)
    tot_n = sum(e[0] for e in b.events)
    bad_n = sum(e[1] for e in b.events)
    for shift in range(TRIES):
        finals = [float(pg * (tot_n + shift - bad_n) + pb * bad_n) for pg, pb in reads.coefs]
        prevs = [f - (pg * (b.events[-1][0] + shift - b.events[-1][1]) + pb * b.events[-1][1])
                 for f, (pg, pb) in zip(finals, reads.coefs)]
        for i in range(len(finals)):
            val = _solve(x, reads, finals, prevs[i], i, w, c)
            if val is None:
                continue
            events = list(b.events)
            events[-1] = (events[-1][0] + shift, events[-1][1])
            new = [_counter(s, coef, events) for coef in reads.coefs]
            new[i] = Track(s, (*new[i].values[:-1], val))
            both = _interleaved(b.old, new)
            if any(_ratio(x, reads, both, t, v) != c for v in VERSIONS):
                continue  # pragma: no cover - _fast is what _ratio computes here
            full = tuple(_counter(t, coef, [b.after] * (b.check - t), tr.values[-1])
                         for coef, tr in zip(reads.coefs, new))
            joined = tuple(Track(s, tr.values + f.values[1:]) for tr, f in zip(new, full))
            return _Built(b.old, joined, t, b.check, tuple(events), b.after)
    return None


def _fast(x: Cond, reads: Reads, finals: list[float], w: int) -> float:
    """The ratio at the equality's minute, where every series the range holds started at 0 on
    its first minute: both conventions then read two samples, 0 and the last, and extrapolate
    nothing (the zero point is the first sample), so ``rate`` is ``last * (1 / range)``."""
    inv = 1.0 / (w * promfloat.STEP_S)

    def side(terms: tuple, picked: tuple[tuple[int, ...], ...]) -> float:
        acc = 0.0
        for k, (tm, idx) in enumerate(zip(terms, picked)):
            factor = inv if tm.fn == "rate" else 1.0
            val = promfloat.vsum([finals[i] * factor for i in idx])
            val = val if tm.sign > 0 else -val
            acc = val if k == 0 else acc + val
        return acc

    n = side(x.ratio.tot, reads.tot)
    return side(x.ratio.err, reads.err) / n if n else math.nan


def _solve(x: Cond, reads: Reads, finals: list[float], prev: float, i: int, w: int,
           c: float) -> float | None:
    """A value of series i's sample at the equality (between its previous sample and far
    above) for which the ratio is exactly ``c``, or None."""
    top = prev + 4 * max(1.0, finals[i])

    def ratio(val: float) -> float:
        vals = list(finals)
        vals[i] = val
        return _fast(x, reads, vals, w)

    lo, hi = prev, top
    lo_r, hi_r = ratio(lo), ratio(hi)
    if math.isnan(lo_r) or math.isnan(hi_r) or (lo_r - c) * (hi_r - c) > 0:
        return None
    rising = hi_r > lo_r
    for _ in range(200):  # bisection over doubles: the two ends become neighbours
        mid = lo + (hi - lo) / 2
        if mid in (lo, hi):
            break
        r = ratio(mid)
        if math.isnan(r):
            return None
        if (r < c) == rising:
            lo = mid
        else:
            hi = mid
    cand = lo
    for _ in range(4):
        cand = math.nextafter(cand, -math.inf)
    for _ in range(9):
        if ratio(cand) == c:
            return cand
        cand = math.nextafter(cand, math.inf)
    return None


def _robust(alerts: tuple[Alert, ...], ai: int, pi: int, side: str, reads: Reads, b: _Built,
            interval: int) -> tuple[str, ...] | None:
    """The severities firing at the check, or None when the case is not clear-cut: the pair's
    other condition must hold from the equality to the check and this one after it, the
    alert's other pairs must not hold at the equality, and every other alert's state at the
    check must be certain."""
    a = alerts[ai]
    p = a.pairs[pi]
    x, y = (p.short, p.long) if side == "short" else (p.long, p.short)
    assert x is not None and y is not None
    tracks = b.tracks
    steps = range(b.at, b.check + 1, interval)
    if not all(_cond(y, reads, tracks, t) is True for t in steps):
        return None
    if not all(_cond(x, reads, tracks, t) is True for t in steps if t > b.at):
        return None
    if any(_pair(q, reads, tracks, b.at) is not False for k, q in enumerate(a.pairs) if k != pi):
        return None
    firing = []
    for k, other in enumerate(alerts):
        if k == ai:
            continue
        f = _firing(other, reads, tracks, b.check, interval)
        if f is None:
            return None
        if f:
            firing.append(other.severity)
    return tuple(firing)
