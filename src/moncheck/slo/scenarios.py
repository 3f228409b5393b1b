"""Test scenarios for generated SLO alerts, chosen so that they kill every modelled mutant.

A scenario is a workload made of segments (duration, error ratio, traffic level) and the
evaluation times at which its promtool test asserts the alerts. Two named scenarios are always
there: the burn that moves from the fast pair to the slow pair (the page must keep firing at
every evaluation) and a burn within budget. The others are picked greedily from a deterministic
pool (fixed shapes such as a sustained medium burn, a short spike, recovery, and seeded random
segment sequences) until every mutant of ``burnmodel.mutants`` is killed at a robust time, or
the pool is exhausted (the survivors are then reported by the caller).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from moncheck import atomic, cache, yamlpos

from moncheck.slo.burnmodel import Alert, Cond, Evaluator, Mutant, Pair, Workload, mutants

SHORT_INTERVAL = 1  # minutes: `for` boundaries and the short windows
LONG_INTERVAL = 30  # minutes: the day-long windows (cheap enough to run for days)
SHORT_HORIZON = 480
LONG_HORIZON = 5 * 1440
POOL = 60  # random candidates per family


@dataclass(frozen=True)
class Segment:
    minutes: int
    ratio: float  # share of bad events
    traffic: float = 1.0  # multiple of the base traffic


@dataclass
class Scenario:
    title: str
    interval: int
    segments: tuple[Segment, ...]
    checkpoints: list[int] = field(default_factory=list)
    firing: dict[int, tuple[str, ...]] = field(default_factory=dict)  # minute -> severities
    kills: list[str] = field(default_factory=list)
    # What its input needs: the decoy series (a kill reads them) and the two halves of each
    # series (a kill is a `sum -> avg`); without, the test holds fewer series (see testgen).
    decoys: bool = True
    halves: bool = True

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.segments)


@dataclass
class Plan:
    scenarios: list[Scenario]
    survivors: list[str]  # mutant names no scenario kills
    total: int
    base_traffic: int


def base_traffic(alerts: tuple[Alert, ...]) -> int:
    """Events per minute at traffic 1: enough that 5% of the lowest threshold is 50 events."""
    low = min((c.threshold for a in alerts for p in a.pairs for c in (p.short, p.long)
               if c is not None and c.threshold > 0), default=1.0)
    return int(min(1e9, max(1000, math.ceil(1000 / low))))


def decoy_per_minute(base: int) -> tuple[int, int]:
    """Good and bad decoy requests a minute, constant (see ``synth``): 3x the base traffic,
    half of it bad, so that an SLI that reads them is far off in either direction."""
    half = round(1.5 * base)
    return half, half


def workload(segments: tuple[Segment, ...], base: int) -> Workload:
    good, bad = [0.0], [0.0]
    for s in segments:
        total = round(base * s.traffic)
        b = round(total * min(1.0, s.ratio))
        good += [float(total - b)] * s.minutes
        bad += [float(b)] * s.minutes
    dg, db = decoy_per_minute(base)
    n = len(good) - 1
    return Workload(np.array(good), np.array(bad), np.array([0.0] + [float(dg)] * n),
                    np.array([0.0] + [float(db)] * n))


def _levels(alerts: tuple[Alert, ...]) -> list[float]:
    """Error ratios to build workloads from: the thresholds (1% when a threshold is 0, i.e.
    an objective of 100%, where any error is over it)."""
    return sorted({c.threshold or 0.01 for a in alerts for p in a.pairs
                   for c in (p.short, p.long) if c is not None})


def _fixed(alerts: tuple[Alert, ...]) -> list[Scenario]:
    """Named shapes: each exercises one thing the issue asks for (see docs/slo.md)."""
    page = alerts[0]
    (pq, ps) = page.pairs
    assert pq.short and pq.long and ps.short and ps.long
    q, s = pq.short.threshold, ps.short.threshold
    fast, medium = min(1.0, 1.5 * q), math.sqrt(q * s) if s > 0 else q / 2
    lw, sw = int(pq.long.ratio.window), int(ps.short.ratio.window)
    out = [
        Scenario("sustained medium burn: fires only through the slow pair", SHORT_INTERVAL,
                 (Segment(SHORT_HORIZON, medium),)),
        Scenario("short spike after a quiet hour must not page", SHORT_INTERVAL,
                 (Segment(2 * lw, 0.0), Segment(max(2, int(pq.short.ratio.window)), 1.0),
                  Segment(lw, 0.0))),
        Scenario("fast burn, then recovery: resolves once the short window recovers",
                 SHORT_INTERVAL, (Segment(lw + 10, fast), Segment(2 * sw, 0.0))),
    ]
    # For each pair: quiet heavy traffic keeps the other pair's long window low, so this pair
    # alone decides; then the burst stops, halves, or is diluted by a traffic step (ranges,
    # irate). And an old burn before a long quiet time, then a recent one (doubled ranges).
    for sw, lw, th, interval in _pairs(alerts):
        step = max(interval, _round_up(sw // 3, interval))
        for quiet in (lw // 2, lw, 2 * lw):
            for k in (1.5, 2.0, 3.5, 5.0):
                r = min(1.0, k * th)
                burst = (Segment(_round_up(quiet, interval), 0.0, 10.0),
                         Segment(_round_up(lw + 5, interval), r))
                for tail in (Segment(_round_up(sw, interval), 0.0), Segment(step, r / 2),
                             Segment(step, r / 10, 10.0), Segment(step, r / 2, 2.0)):
                    out.append(Scenario("quiet, then a burn that stops, halves or is "
                                        "diluted", interval, (*burst, tail)))
        # Quiet heavy traffic (it keeps the other pair's long window low), a steady burn under
        # the threshold for longer than the long window, then a recent burn: a long window read
        # over twice its range with `increase` doubles its errors.
        horizon = LONG_HORIZON if interval == LONG_INTERVAL else SHORT_HORIZON
        for quiet in (lw, 0):
            steady = _round_up(max(interval, min(horizon - quiet - 2 * sw, 2 * lw)), interval)
            lead = (Segment(_round_up(quiet, interval), 0.0, 10.0),) if quiet else ()
            out.append(Scenario("a steady burn under the threshold, then a recent burn",
                                interval, (*lead, Segment(steady, min(1.0, 0.7 * th)),
                                           Segment(_round_up(2 * sw, interval),
                                                   min(1.0, 1.5 * th)))))
        # A burn, then the ratio steps across the threshold as the traffic steps: a selector
        # whose range was halved or doubled on one side only reads the step differently.
        for k, traffic in ((0.85, 10.0), (1.2, 0.1), (0.85, 0.1), (1.2, 10.0)):
            out.append(Scenario(
                "a burn, then the ratio and the traffic step", interval,
                (Segment(_round_up(2 * lw, interval), 0.0, 10.0),
                 Segment(_round_up(lw + 5, interval), min(1.0, 2 * th)),
                 Segment(_round_up(2 * sw, interval), min(1.0, k * th), traffic))))
        if 2 * lw <= LONG_HORIZON:
            for k in (3.0, 8.0):
                out.append(Scenario(
                    "an old burn, a long quiet time, a recent burn", interval,
                    (Segment(_round_up(lw // 3, interval), min(1.0, k * th), 10.0),
                     Segment(_round_up(2 * lw - lw // 3 - sw, interval), 0.0, 10.0),
                     Segment(_round_up(sw, interval), min(1.0, 2 * th)))))
    for lv in _levels(alerts):
        for k in (0.85, 1.2):
            out.append(Scenario(f"constant error ratio {k:g}x a threshold", SHORT_INTERVAL,
                                (Segment(SHORT_HORIZON // 2, min(1.0, k * lv)),)))
            out.append(Scenario(f"constant error ratio {k:g}x a threshold, for days",
                                LONG_INTERVAL, (Segment(LONG_HORIZON // 2, min(1.0, k * lv)),)))
    return out


def _narrow(alerts: tuple[Alert, ...]) -> list[Scenario]:
    """Shapes that change within a short window: a burn that halves for longer than it, errors
    or traffic alternating minute by minute (or in the last minute before each evaluation), so
    that ``irate``, a halved range and a halved short threshold behave differently."""
    out = []
    for sw, lw, th, interval in _pairs(alerts):
        span = _round_up(lw + 2 * sw + 10, interval)
        # Quiet heavy traffic first keeps the other pair's long window low (as in _fixed).
        quiet = (Segment(_round_up(2 * lw, interval), 0.0, 10.0),)
        for k in (1.5, 2.0, 3.5):
            r = min(1.0, k * th)
            out.append(Scenario("a burn that halves for longer than the short window",
                                interval, (*quiet, Segment(_round_up(lw + 5, interval), r),
                                           Segment(_round_up(2 * sw + 2, interval), r / 2))))
        for k in (1.5, 3.0):
            r = min(1.0, k * th)
            if interval == SHORT_INTERVAL:
                errs = (Segment(1, min(1.0, 2 * r)), Segment(1, 0.0))
                traffic = (Segment(1, r), Segment(1, r, 10.0))
                n = span // 2
            else:
                errs = (Segment(interval - 1, 0.0), Segment(1, min(1.0, 10 * r)))
                traffic = (Segment(interval - 1, r), Segment(1, r, 10.0))
                n = span // interval
            out.append(Scenario("errors in alternate minutes", interval, quiet + errs * n))
            out.append(Scenario("traffic alternating between 1x and 10x", interval,
                                quiet + traffic * n))
    return out


def _pairs(alerts: tuple[Alert, ...]) -> list[tuple[int, int, float, int]]:
    """(short, long window in minutes, short threshold, evaluation interval) of every pair:
    pairs whose windows do not fit the short horizon are evaluated every LONG_INTERVAL."""
    out = []
    for a in alerts:
        for p in a.pairs:
            assert p.short is not None and p.long is not None
            sw, lw = int(p.short.ratio.window), int(p.long.ratio.window)
            out.append((sw, lw, p.short.threshold or 0.01, pair_interval(p)))
    return out


def pair_interval(p: Pair) -> int:
    """The evaluation interval of a pair's tests: minutes, unless its windows do not fit the
    short horizon."""
    assert p.short is not None and p.long is not None
    sw, lw = int(p.short.ratio.window), int(p.long.ratio.window)
    return LONG_INTERVAL if 2 * lw + sw > SHORT_HORIZON else SHORT_INTERVAL


def _round_up(m: int, step: int) -> int:
    return max(step, -(-m // step) * step)


def _random(alerts: tuple[Alert, ...], seed: int) -> list[Scenario]:
    rnd = random.Random(seed)
    levels = _levels(alerts)
    mults = (0.0, 0.0, 0.3, 0.6, 0.85, 1.2, 1.6, 2.5, 5.0, 12.0)
    out = []
    for family, interval, horizon, durs in (
            ("short", SHORT_INTERVAL, SHORT_HORIZON,
             (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 45, 60, 75, 90, 120, 180, 240)),
            ("long", LONG_INTERVAL, LONG_HORIZON,
             (30, 60, 120, 180, 240, 360, 480, 720, 1080, 1440, 2160, 2880))):
        for _ in range(POOL):
            segs, used = [], 0
            for _ in range(rnd.randint(2, 5)):
                d = min(rnd.choice(durs), horizon - used)
                if d <= 0:
                    break
                used += d
                segs.append(Segment(d, min(1.0, rnd.choice(levels) * rnd.choice(mults)),
                                    rnd.choice((1.0, 1.0, 1.0, 0.1, 10.0))))
            out.append(Scenario(f"{family} mixed burns", interval, tuple(segs)))
    return out


def default_cache_dir() -> Path | None:
    """Where plans are kept between runs (``moncheck.cache``, ``slo-plans``). Plans depend on
    the model's code and the rule shape only, not on the repository."""
    return cache.cache_dir("slo-plans")


def plan(alerts: tuple[Alert, ...], cache_dir: Path | None = None) -> Plan:
    """The plan of one rule shape: from memory, else from ``cache_dir`` (a plan file written by
    an earlier run of the same model code), else computed (and written there).

    Shapes that differ only in their objective share most of a plan: the scenarios of the
    shape's *canonical* form (every threshold scaled so that the lowest is ``CANON_LOW``), their
    error ratios scaled back, are the first candidates, judged on the model at the real
    thresholds like any other (checkpoints chosen afresh, kept only where they kill a mutant);
    the usual pool follows for whatever they leave alive. The result depends on the shape
    alone, not on which other shapes were planned before, so generated files do not change
    with the rest of the repository."""
    return _plan(alerts, cache_dir)


def clear_caches() -> None:
    """Forget the plans kept in memory (tests and benchmarks: a new process)."""
    _plan.cache_clear()


CANON_LOW = 0.001  # the lowest threshold of a canonical shape: a 99.9% objective's budget


def _lowest(alerts: tuple[Alert, ...]) -> float:
    return min(c.threshold for a in alerts for p in a.pairs for c in (p.short, p.long)
               if c is not None)


def _canonical(alerts: tuple[Alert, ...]) -> tuple[Alert, ...] | None:
    """The shape with thresholds scaled to CANON_LOW, or None (a threshold of 0)."""
    low = _lowest(alerts)
    if low <= 0:
        return None

    def cond(c: Cond | None) -> Cond | None:
        # Ten significant digits: 14.4 * b / b is 14.4 for every budget b, so every objective
        # of one shape maps to the same canonical alerts (and plan file).
        return None if c is None else replace(
            c, threshold=float(f"{c.threshold / low:.10g}") * CANON_LOW)
    return tuple(replace(a, pairs=tuple(replace(p, short=cond(p.short), long=cond(p.long))
                                        for p in a.pairs)) for a in alerts)


@functools.lru_cache(maxsize=256)
def _plan(alerts: tuple[Alert, ...], cache_dir: Path | None = None) -> Plan:
    if cache_dir is None:
        return _compute(alerts, cache_dir)
    path = cache_dir / f"{_key(alerts)}.json"
    got = _read(path)
    if got is not None:
        return got
    out = _compute(alerts, cache_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, json.dumps(_to_json(out)))
    except OSError:
        pass  # a read-only checkout: the cache is an optimisation only
    return out


@functools.cache
def _model_version() -> str:
    """The planner's own code: a plan file is only read back by the code that wrote it."""
    h = hashlib.sha256()
    for mod in ("burnmodel.py", "scenarios.py"):
        h.update((Path(__file__).parent / mod).read_bytes())
    h.update(np.__version__.encode())
    return h.hexdigest()[:16]


def _key(alerts: tuple[Alert, ...]) -> str:
    return hashlib.sha256(f"{_model_version()}\n{alerts!r}".encode()).hexdigest()[:32]


def _to_json(p: Plan) -> dict:
    return {"survivors": p.survivors, "total": p.total, "base": p.base_traffic,
            "scenarios": [{"title": sc.title, "interval": sc.interval,
                           "segments": [[g.minutes, g.ratio, g.traffic] for g in sc.segments],
                           "checkpoints": sc.checkpoints,
                           "firing": [[t, list(f)] for t, f in sc.firing.items()],
                           "kills": sc.kills, "decoys": sc.decoys, "halves": sc.halves}
                          for sc in p.scenarios]}


def _read(path: Path) -> Plan | None:
    """A plan file, or None when it is missing or not what _to_json writes."""
    try:
        # read_source: only a regular file, size-limited (never blocks on a FIFO).
        d = json.loads(yamlpos.read_source(path, str(path)))
        scs = [Scenario(str(x["title"]), int(x["interval"]),
                        tuple(Segment(int(m), float(r), float(tr)) for m, r, tr in x["segments"]),
                        [int(t) for t in x["checkpoints"]],
                        {int(t): tuple(str(v) for v in f) for t, f in x["firing"]},
                        [str(k) for k in x["kills"]], bool(x["decoys"]), bool(x["halves"]))
               for x in d["scenarios"]]
        return Plan(scs, [str(v) for v in d["survivors"]], int(d["total"]), int(d["base"]))
    except (yamlpos.LoadError, OSError, ValueError, KeyError, TypeError):
        return None


def _scaled(src: Plan, scale: float) -> list[tuple[Scenario, frozenset[str] | None]]:
    """The pool scenarios of ``src`` (a canonical plan) with their error ratios times ``scale``
    (a ratio of 1 stays 1: a total outage), as candidates for a shape of another objective,
    each with the mutants it killed there: only those are tried on it (the rest wait for the
    usual pool), which makes a shape that needs nothing else cost one try per mutant."""
    return [(Scenario(sc.title, sc.interval,
                      tuple(replace(g, ratio=g.ratio if g.ratio >= 1
                                    else min(1.0, g.ratio * scale)) for g in sc.segments)),
             frozenset(sc.kills))
            for sc in src.scenarios if sc.title not in (REFIRE, WITHIN)]


def _compute(alerts: tuple[Alert, ...], cache_dir: Path | None) -> Plan:
    base = base_traffic(alerts)
    muts = mutants(alerts)
    # The canonical shape's scenarios first: they usually kill every mutant at once (see plan),
    # and are only kept where the model says so at these thresholds.
    canon = _canonical(alerts)
    first: list[tuple[Scenario, frozenset[str] | None]] = []
    if canon is not None and canon != alerts:
        src = _plan(canon, cache_dir)
        first = _scaled(src, _lowest(alerts) / CANON_LOW)
    # _narrow only matters for windows of a few minutes (custom AlertWindows): it comes last,
    # so the plans of the usual windows, which need none of it, do not change.
    rest = (_fixed(alerts) + _random(alerts, zlib.crc32(repr(alerts).encode()))
            + _narrow(alerts))
    pool: list[tuple[Scenario, frozenset[str] | None]] = first + [(sc, None) for sc in rest]
    left = set(range(len(muts)))
    scenarios: list[Scenario] = []
    refire = _refire(alerts, base)
    if refire is not None:
        scenarios.append(refire)
    # First fit: a candidate is kept when it kills a mutant no kept scenario kills.
    for sc, only in pool:
        if not left:
            break
        ev = Evaluator(workload(sc.segments, base), sc.interval)
        # By position, not keyed by the alerts: hashing the nested alerts costs more than this.
        orig = [ev.state(a) for a in alerts]
        # Only where every alert's state is certain: a checkpoint asserts all of them.
        certain = np.logical_and.reduce([ok for _, ok in orig])
        hits: dict[int, np.ndarray] = {}
        for i in sorted(left):
            m = muts[i]
            if only is not None and m.name not in only:
                continue
            hit = np.zeros(len(ev.t), dtype=bool)
            for k, (a, b) in enumerate(zip(alerts, m.alerts)):
                if a is not b:
                    (f, _), (fm, okm) = orig[k], ev.state(b)
                    hit |= certain & okm & (f != fm)
            if hit.any():
                hits[i] = hit
        # Few checkpoints: greedily the evaluation time that kills the most mutants left.
        points: set[int] = set()
        todo = dict(hits)
        while todo:
            counts = np.sum(list(todo.values()), axis=0)
            t = int(np.argmax(counts))
            points.add(t)
            todo = {i: h for i, h in todo.items() if not h[t]}
        for i in sorted(hits):
            sc.kills.append(muts[i].name)
            left.discard(i)
        if points:
            idx = sorted(points)
            sc.checkpoints = [int(ev.t[i]) for i in idx]
            sc.firing = {int(ev.t[i]): tuple(a.severity for k, a in enumerate(alerts)
                                             if orig[k][0][i])
                         for i in idx}
            scenarios.append(sc)
    within = _within_budget(alerts, base)
    if within is not None:
        scenarios.append(within)
    needs = {m.name: _needs(m) for m in muts}
    for sc in scenarios:
        sc.decoys = any(needs[k][0] for k in sc.kills)
        sc.halves = any(needs[k][1] for k in sc.kills)
    return Plan(scenarios, sorted(muts[i].name for i in left), len(muts), base)


def _needs(m: Mutant) -> tuple[bool, bool]:
    """Whether the mutant reads decoy series, and whether it averages a side."""
    terms = [tm for a in m.alerts for p in a.pairs for c in (p.short, p.long) if c is not None
             for tm in (*c.ratio.err, *c.ratio.tot)]
    return (any(tm.coef[2] or tm.coef[3] for tm in terms), any(tm.avg for tm in terms))


REFIRE = ("fast burn turns into a medium burn: the page keeps firing, never resolves (fast "
          "pair, then slow pair)")
WITHIN = "burn within budget stays silent"


def _refire(alerts: tuple[Alert, ...], base: int) -> Scenario | None:
    """Fast burn for 20 minutes, then a medium burn: the page fires at every evaluation from
    its first firing to the end, though the burn moves from the fast pair to the slow one."""
    page = alerts[0]
    pq, ps = page.pairs
    assert pq.short and ps.short and ps.long
    q, s = pq.short.threshold, ps.short.threshold
    if not 0 < s < q < 1:
        return None
    segs = (Segment(20 + int(page.for_min), min(1.0, 1.5 * q)), Segment(60, math.sqrt(q * s)))
    ev = Evaluator(workload(segs, base), SHORT_INTERVAL)
    fire, ok = ev.state(page)
    first = int(np.argmax(fire))
    if not fire.any() or not (fire[first:].all() and ok[first:].all()):
        return None
    quick, quick_ok = ev.pair_state(pq)
    # It must really move from one pair to the other.
    if quick[-1] or not quick_ok[-1] or not quick[first] or not quick_ok[first]:
        return None
    # Every minute around the move (where a label change would resolve the alert and wait
    # `for` again), every 10 minutes elsewhere.
    moved = first + int(np.argmax(~quick[first:]))
    near = range(moved - 3, moved + int(page.for_min) + 4)
    pts = [int(t) for i, t in enumerate(ev.t) if i >= first and (i in near or t % 10 == 0)]
    orig = {a.severity: ev.state(a) for a in alerts}
    if not all(o[1][first:].all() for o in orig.values()):
        return None
    return Scenario(REFIRE, SHORT_INTERVAL, segs, pts,
                    {t: tuple(k for k, f in orig.items() if f[0][t]) for t in pts})


def _within_budget(alerts: tuple[Alert, ...], base: int) -> Scenario | None:
    low = min(_levels(alerts))
    if low <= 0:
        return None
    segs = (Segment(120, low / 2),)
    return Scenario(WITHIN, SHORT_INTERVAL, segs, [60, 120],
                    {60: (), 120: ()})
