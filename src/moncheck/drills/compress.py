"""Time compression: derive, mechanically, a copy of the monitoring config that runs ``speed`` times faster.

Every duration is divided by one factor: rule ``for``/``keep_firing_for``, range selectors, subquery
ranges and steps, offsets, group ``interval``; Prometheus scrape/evaluation intervals and timeouts;
Alertmanager ``group_wait``/``group_interval``/``repeat_interval``/``resolve_timeout``. Nothing is
edited by hand. A factor that would break an expression is refused with ``file:line`` and the reason
(see docs/drills.md for what compression preserves and what it cannot).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import promql_parser as pp

from moncheck import durations, promql, yamlpos
from moncheck.drills.promql_print import Printer, format_duration, to_ms

# Floors that compression may not cross (absolute, so they bound the speed factor). Below ~250ms
# Prometheus scrapes and rule evaluations of a Python service on a shared 2-core box start to
# overlap and jitter more than the interval itself.
MIN_SCRAPE_MS = 250
MIN_EVAL_MS = 250
MIN_DURATION_MS = 1

# Functions that need at least two samples in their window.
TWO_SAMPLE_FUNCS = {"rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear"}

CAVEATS = {
    "increase": "increase() counts in absolute units: a threshold N over W becomes N over W/speed, "
    "i.e. a speed-times-higher rate is needed",
    "delta": "delta() is an absolute change: the same value over a window speed-times shorter",
    "changes": "changes() counts events: fewer happen in a compressed window",
    "resets": "resets() counts events: fewer happen in a compressed window",
    "count_over_time": "count_over_time() counts samples: preserved only while scrapes are compressed too",
    "sum_over_time": "sum_over_time() grows with the number of samples, not with time",
    "predict_linear": "predict_linear()'s horizon is in real seconds and is not compressed",
    "time": "time() is wall-clock time and does not compress",
    "timestamp": "timestamp() is wall-clock time and does not compress",
    "absent_over_time": "absent_over_time(): a target down for W/speed already counts as absent for W",
}
CAVEAT_METRICS = {
    "process_start_time_seconds": "process_start_time_seconds is wall-clock time and does not compress",
}



@dataclass(frozen=True)
class Problem:
    """A reason to refuse the speed factor (or a malformed input), located in the user's file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Caveat:
    """A rule whose meaning compression does not preserve exactly (reported, not refused)."""

    path: str
    line: int
    rule: str
    message: str


class CompressionError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Result:
    data: Any
    problems: list[Problem] = field(default_factory=list)
    caveats: list[Caveat] = field(default_factory=list)


def parse_duration_ms(text: Any) -> int | None:
    """Milliseconds of a Prometheus duration string (``1h30m``, ``1500ms``); None if malformed."""
    try:
        return durations.parse_ms(text)
    except ValueError:
        return None


def scale_ms(ms: int, speed: float) -> int:
    return round(ms / speed)


class _Ctx:
    def __init__(self, speed: float, path: str, scrape_ms: int, eval_ms: int) -> None:
        self.speed, self.path, self.scrape_ms, self.eval_ms = speed, path, scrape_ms, eval_ms
        self.problems: list[Problem] = []
        self.caveats: list[Caveat] = []

    def duration(self, value: Any, line: int, what: str) -> str | None:
        ms = parse_duration_ms(value)
        if ms is None:
            self.problems.append(Problem(self.path, line, f"{what}: invalid duration {value!r}"))
            return None
        out = scale_ms(ms, self.speed)
        if ms and out < MIN_DURATION_MS:
            self.problems.append(Problem(
                self.path, line, f"{what} {value} / speed {self.speed:g} is below 1ms"))
            return None
        return format_duration(out)


def _td_ms(ms: int) -> timedelta:
    return timedelta(milliseconds=ms)


def compress_expr(text: str, ctx: _Ctx, line: int, rule: str) -> str | None:
    """Compressed PromQL text, or None after recording a problem."""
    try:
        expr = promql.parse(text)
    except (ValueError, TypeError) as e:
        ctx.problems.append(Problem(ctx.path, line, f"rule {rule}: cannot parse expression: {e}"))
        return None
    speed = ctx.speed
    bad: list[str] = []

    def scaled(td: timedelta | None, what: str) -> timedelta | None:
        if td is None:
            return None
        ms = to_ms(td)
        out = round(ms / speed)
        if ms and abs(out) < MIN_DURATION_MS:
            bad.append(f"{what} {format_duration(ms)} / speed {speed:g} is below 1ms")
        return _td_ms(out)

    def check_call(call: pp.Call) -> None:
        name = call.func.name
        if name in CAVEATS:
            ctx.caveats.append(Caveat(ctx.path, line, rule, CAVEATS[name]))
        if name in TWO_SAMPLE_FUNCS:
            for a in call.args:
                if isinstance(a, pp.MatrixSelector) and to_ms(a.range) < 2 * ctx.scrape_ms:
                    bad.append(
                        f"{name}() window {format_duration(a.range)} holds fewer than 2 scrapes of "
                        f"{format_duration(ctx.scrape_ms)} (needs 2 samples, at any speed)")

    def post(node: pp.Expr) -> None:
        # Only collects facts. Durations are scaled afterwards by _scale_in_place: promql-parser's
        # transform() ignores attribute edits made on visited nodes, while edits through the live
        # getters of the parsed tree do stick (and our printer reads them).
        if isinstance(node, pp.Call):
            check_call(node)
        elif isinstance(node, pp.VectorSelector):
            if node.name in CAVEAT_METRICS:
                ctx.caveats.append(Caveat(ctx.path, line, rule, CAVEAT_METRICS[node.name]))
        return None

    pp.walk(expr, post_visit=post)
    _scale_in_place(expr, scaled)
    if bad:
        for b in dict.fromkeys(bad):
            ctx.problems.append(Problem(ctx.path, line, f"rule {rule}: {b}"))
        return None
    step = _td_ms(ctx.eval_ms) if ctx.eval_ms else None
    return Printer(default_step=step)(expr)


def _scale_in_place(e: pp.Expr, scaled: Any) -> None:
    """Divide every duration of the tree; promql-parser's getters return live children."""
    if isinstance(e, pp.VectorSelector):
        if e.offset is not None:
            e.offset = scaled(e.offset, "offset")
    elif isinstance(e, pp.MatrixSelector):
        e.range = scaled(e.range, "range")
        vs = e.vector_selector
        if vs.offset is not None:
            vs.offset = scaled(vs.offset, "offset")
    elif isinstance(e, pp.SubqueryExpr):
        _scale_in_place(e.expr, scaled)
        e.range = scaled(e.range, "subquery range")
        if e.step is not None:
            e.step = scaled(e.step, "subquery step")
        if e.offset is not None:
            e.offset = scaled(e.offset, "offset")
    elif isinstance(e, (pp.ParenExpr, pp.UnaryExpr, pp.AggregateExpr)):
        _scale_in_place(e.expr, scaled)
        if isinstance(e, pp.AggregateExpr) and e.param is not None:
            _scale_in_place(e.param, scaled)
    elif isinstance(e, pp.BinaryExpr):
        _scale_in_place(e.lhs, scaled)
        _scale_in_place(e.rhs, scaled)
    elif isinstance(e, pp.Call):
        for a in e.args:
            _scale_in_place(a, scaled)


def compress_rules(doc: Any, speed: float, path: str, scrape_ms: int, eval_ms: int) -> Result:
    """Compress one rule file (as loaded by ``yamlpos``); the result is plain data."""
    ctx = _Ctx(speed, path, scrape_ms, eval_ms)
    # Subqueries without a step use the global evaluation interval, which we compress too.
    ctx.eval_ms = scale_ms(eval_ms, speed)
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        return Result(None, [Problem(path, yamlpos.line_of(doc), "a rule file needs a 'groups' list")])
    out = _plain(doc)
    for gi, group in enumerate(doc["groups"]):
        if not isinstance(group, dict):
            ctx.problems.append(Problem(path, yamlpos.line_of(doc["groups"]), "group must be a mapping"))
            continue
        og = out["groups"][gi]
        if "interval" in group:
            v = ctx.duration(group["interval"], yamlpos.line_of(group, "interval"),
                             f"group {group.get('name')} interval")
            if v is not None:
                og["interval"] = v
                if (parse_duration_ms(v) or 0) < MIN_EVAL_MS:
                    ctx.problems.append(Problem(path, yamlpos.line_of(group, "interval"),
                                                f"group {group.get('name')}: interval {v} is below "
                                                f"the {MIN_EVAL_MS}ms evaluation floor"))
        for ri, rule in enumerate(group.get("rules") or []):
            if not isinstance(rule, dict):
                continue
            name = str(rule.get("alert") or rule.get("record") or f"#{ri + 1}")
            orule = og["rules"][ri]
            line = yamlpos.line_of(rule, "expr")
            text = compress_expr(str(rule.get("expr", "")), ctx, line, name)
            if text is not None:
                orule["expr"] = text
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    v = ctx.duration(rule[key], yamlpos.line_of(rule, key), f"rule {name}: {key}")
                    if v is not None:
                        orule[key] = v
    return Result(out, ctx.problems, ctx.caveats)


def _plain(x: Any) -> Any:
    """Deep copy into plain dict/list (yaml.safe_dump refuses our Loc* subclasses)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return copy.copy(x)


def prometheus_intervals(cfg: Any) -> tuple[int, int]:
    """(scrape, evaluation) interval of a prometheus.yml in ms, with Prometheus' defaults."""
    g = cfg.get("global") or {} if isinstance(cfg, dict) else {}
    scrape = parse_duration_ms(g.get("scrape_interval", "1m")) or 60_000
    ev = parse_duration_ms(g.get("evaluation_interval", "1m")) or 60_000
    return scrape, ev


def compress_prometheus(cfg: Any, speed: float, path: str) -> Result:
    """Compress the global and per-job intervals of a prometheus.yml (plain data out)."""
    ctx = _Ctx(speed, path, 0, 0)
    out = _plain(cfg)
    g = cfg.get("global") or {}
    og = out.setdefault("global", {})
    defaults = {"scrape_interval": "1m", "evaluation_interval": "1m", "scrape_timeout": "10s"}
    floors = {"scrape_interval": MIN_SCRAPE_MS, "evaluation_interval": MIN_EVAL_MS}
    for key, default in defaults.items():
        line = yamlpos.line_of(g, key, yamlpos.line_of(cfg, "global"))
        v = ctx.duration(g.get(key, default), line, f"global {key}")
        if v is None:
            continue
        og[key] = v
        if key in floors and (parse_duration_ms(v) or 0) < floors[key]:
            ctx.problems.append(Problem(
                path, line, f"global {key} {g.get(key, default)} / speed {speed:g} = {v} is below the "
                f"{floors[key]}ms floor; use a speed <= {(parse_duration_ms(g.get(key, default)) or 0) / floors[key]:g}"))
    # A scrape timeout may not exceed its interval; after rounding keep it strictly inside.
    _clamp_timeout(og)
    for job, ojob in zip(cfg.get("scrape_configs") or [], out.get("scrape_configs") or []):
        for key in ("scrape_interval", "scrape_timeout"):
            if key in job:
                v = ctx.duration(job[key], yamlpos.line_of(job, key), f"job {job.get('job_name')} {key}")
                if v is not None:
                    ojob[key] = v
        if "scrape_interval" in job and (parse_duration_ms(ojob["scrape_interval"]) or 0) < MIN_SCRAPE_MS:
            ctx.problems.append(Problem(path, yamlpos.line_of(job, "scrape_interval"),
                                        f"job {job.get('job_name')}: scrape_interval below {MIN_SCRAPE_MS}ms"))
        if "scrape_timeout" not in job and "scrape_interval" in job:
            ojob["scrape_timeout"] = min(og["scrape_timeout"], ojob["scrape_interval"], key=lambda d: parse_duration_ms(d) or 0)
        _clamp_timeout(ojob)
    return Result(out, ctx.problems, ctx.caveats)


def _clamp_timeout(section: dict) -> None:
    """The scrape timeout becomes the scrape interval, the widest Prometheus accepts.

    Compressed like the rest it would be ~170ms at 60x: on a loaded machine (parallel stacks, a
    shared 2-core host) a Python service answers /metrics slower than that, every failed scrape
    drops `up` and resets pending alerts, and TargetDown/ScrapeFailures fire in drills about
    something else. No alert's timing depends on the timeout, only on the interval.
    """
    if section.get("scrape_interval") is not None and parse_duration_ms(section.get("scrape_interval")):
        section["scrape_timeout"] = section["scrape_interval"]


AM_ROUTE_KEYS = ("group_wait", "group_interval", "repeat_interval")


def compress_alertmanager(cfg: Any, speed: float, path: str) -> Result:
    """Compress the route tree's timers and ``global.resolve_timeout`` of an alertmanager.yml."""
    ctx = _Ctx(speed, path, 0, 0)
    out = _plain(cfg)
    g = cfg.get("global") or {}
    if "resolve_timeout" in g:
        v = ctx.duration(g["resolve_timeout"], yamlpos.line_of(g, "resolve_timeout"), "resolve_timeout")
        if v is not None:
            out["global"]["resolve_timeout"] = v

    def walk(route: Any, oroute: dict) -> None:
        if not isinstance(route, dict):
            return
        for key in AM_ROUTE_KEYS:
            if key in route:
                v = ctx.duration(route[key], yamlpos.line_of(route, key), f"route {key}")
                if v is not None:
                    oroute[key] = v
        for child, ochild in zip(route.get("routes") or [], oroute.get("routes") or []):
            walk(child, ochild)

    root = cfg.get("route")
    if isinstance(root, dict):
        # Alertmanager's own defaults apply when the root omits a timer: make them explicit.
        for key, default in (("group_wait", "30s"), ("group_interval", "5m"), ("repeat_interval", "4h")):
            if key not in root:
                out["route"][key] = ctx.duration(default, yamlpos.line_of(root), f"route {key} (default)")
        walk(root, out["route"])
    return Result(out, ctx.problems, ctx.caveats)


def max_speed(cfg: Any) -> float:
    """Largest speed the prometheus.yml's intervals allow (the binding floors are absolute)."""
    scrape, ev = prometheus_intervals(cfg)
    return min(scrape / MIN_SCRAPE_MS, ev / MIN_EVAL_MS)
