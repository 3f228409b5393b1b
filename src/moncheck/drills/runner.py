"""Run fire drills against a running local stack and time every expectation.

For each expected alert: wall time from fault injection to ``firing`` in Prometheus, to the first
notification at the sink per receiver, and from clearing the fault to resolution; each compared with
its theoretical minimum on the compressed timeline.
"""

from __future__ import annotations

import glob
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import promql_parser as pp
import requests
import yaml

from moncheck import alertmanager as am
from moncheck import yamlpos
from moncheck import promql
from moncheck.drills.compress import parse_duration_ms
from moncheck.drills.locust_proc import LocustRun
from moncheck.drills.promql_print import format_duration
from moncheck.drills.spec import Drill, Expect, Traffic, run_order

POLL_S = 0.2
GRACE_S = 5.0          # wall-clock slack on top of compressed deadlines (process start, polling)
WARMUP_S = 3.0         # traffic before the fault, unless the drill says `fault.at`


@dataclass
class Timings:
    """The compressed timeline (milliseconds) the minimum times are computed from."""

    scrape_ms: int
    eval_ms: int
    group_wait_ms: int
    group_interval_ms: int
    alerts: dict[str, dict[str, int]]  # alert -> {for_ms, window_ms}
    route: dict = field(default_factory=dict)   # the compressed Alertmanager routing tree
    alert_labels: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # static rule labels

    def labels_for(self, alert: str, expected: dict[str, str]) -> dict[str, str]:
        """The static labels of the rule the expectation means (SLO page vs ticket), plus its own."""
        for labels in self.alert_labels.get(alert, []):
            if all(labels.get(k, v) == v for k, v in expected.items()):
                return {**labels, **expected, "alertname": alert}
        return {**expected, "alertname": alert}

    def group_wait_s(self, alert: str, receiver: str, expected: dict[str, str] | None = None) -> float:
        """group_wait of the route through which ``receiver`` gets the alert (not the root's)."""
        if not self.route:
            return self.group_wait_ms / 1000
        waits = receiver_group_waits(self.route, self.labels_for(alert, expected or {}), self.group_wait_ms)
        return waits.get(receiver, self.group_wait_ms) / 1000

    def min_fire_s(self, alert: str) -> float:
        a = self.alerts.get(alert, {})
        # The fault shows at the next scrape, the rule sees it at the next evaluation, then `for`.
        return (a.get("for_ms", 0) + self.scrape_ms + self.eval_ms) / 1000

    def min_notify_s(self, alert: str, receiver: str | None = None,
                     expected: dict[str, str] | None = None) -> float:
        if receiver is None:
            return self.min_fire_s(alert) + self.group_wait_ms / 1000
        return self.min_fire_s(alert) + self.group_wait_s(alert, receiver, expected)

    def min_resolve_s(self, alert: str) -> float:
        # Once cleared, the bad samples must leave the widest window the alert depends on.
        a = self.alerts.get(alert, {})
        return (a.get("window_ms", 0) + self.eval_ms) / 1000


def receiver_group_waits(route: dict, labels: dict[str, str], default_ms: int = 0) -> dict[str, int]:
    """receiver -> group_wait (ms) of the route node that delivers ``labels`` to it, on the
    Alertmanager model (``moncheck.alertmanager``: tree walk, ``continue``, inherited
    ``receiver``/``group_wait``); ``default_ms`` is the root's when it sets none."""
    node = route if "group_wait" in route else {**route, "group_wait": f"{default_ms}ms"}
    try:
        tree = am.parse_route(node, "alertmanager.yml")
    except yamlpos.LoadError:
        return {}  # the stack's Alertmanager accepted it; min times then use the root's group_wait
    out: dict[str, int] = {}
    for handler in tree.match(labels):
        out.setdefault(handler.receiver, handler.group_wait_ms)
    return out


def _max_range(expr: str, recorded: dict[str, int]) -> int:
    best = [0]
    try:
        tree = promql.parse(expr)
    except (ValueError, TypeError):
        return 0

    def visit(n: pp.Expr) -> None:
        if isinstance(n, pp.MatrixSelector):
            best[0] = max(best[0], round(n.range.total_seconds() * 1000))
        elif isinstance(n, pp.SubqueryExpr) and n.range is not None:
            best[0] = max(best[0], round(n.range.total_seconds() * 1000))
        elif isinstance(n, pp.VectorSelector) and n.name in recorded:
            best[0] = max(best[0], recorded[n.name])
    pp.walk(tree, post_visit=visit)
    return best[0]


def stack_timings(stack: Any) -> Timings:
    """Read the compressed intervals and per-alert for/window from the stack's derived configs."""
    prom = yaml.safe_load((stack.dir / "prometheus/prometheus.yml").read_text())
    am = yaml.safe_load((stack.dir / "alertmanager/alertmanager.yml").read_text())
    g = prom.get("global") or {}
    route = am.get("route") or {}
    rules: list[dict] = []
    for pattern in prom.get("rule_files") or []:
        for path in sorted(glob.glob(str(stack.dir / "prometheus" / pattern))):
            doc = yaml.safe_load(Path(path).read_text()) or {}
            for grp in doc.get("groups") or []:
                rules += grp.get("rules") or []
    recorded: dict[str, int] = {}
    for _ in range(3):  # recording rules built on recording rules
        for r in rules:
            if "record" in r:
                recorded[r["record"]] = max(recorded.get(r["record"], 0), _max_range(str(r["expr"]), recorded))
    alerts: dict[str, dict[str, int]] = {}
    labels: dict[str, list[dict[str, str]]] = {}
    for r in rules:
        if "alert" not in r:
            continue
        labels.setdefault(r["alert"], []).append({k: str(v) for k, v in (r.get("labels") or {}).items()})
        # Several rules may share a name (SLO page + ticket): the fastest one bounds the minimum.
        for_ms = parse_duration_ms(r.get("for", "0s")) or 0
        window = _max_range(str(r["expr"]), recorded)
        cur = alerts.setdefault(r["alert"], {"for_ms": for_ms, "window_ms": window})
        cur["for_ms"] = min(cur["for_ms"], for_ms)
        cur["window_ms"] = min(cur["window_ms"], window)
    return Timings(parse_duration_ms(g.get("scrape_interval")) or 60_000,
                   parse_duration_ms(g.get("evaluation_interval")) or 60_000,
                   parse_duration_ms(route.get("group_wait")) or 0,
                   parse_duration_ms(route.get("group_interval")) or 0, alerts, route, labels)


@dataclass
class AlertResult:
    alert: str
    receivers: list[str]
    fired_s: float | None = None
    notified_s: dict[str, float] = field(default_factory=dict)
    resolved_s: float | None = None
    resolve_notified_s: dict[str, float] = field(default_factory=dict)
    min_fire_s: float = 0.0
    min_notify_s: float = 0.0       # slowest receiver's minimum (its route's group_wait)
    min_notify_by_receiver: dict[str, float] = field(default_factory=dict)
    min_resolve_s: float = 0.0
    deadline_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return self.fired_s / self.min_fire_s if self.fired_s and self.min_fire_s else None


@dataclass
class DrillResult:
    name: str
    path: str
    wall_s: float = 0.0
    alerts: list[AlertResult] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)   # alerts that fired but were not expected
    failures: list[str] = field(default_factory=list)
    load: dict[str, float] = field(default_factory=dict)
    baseline: bool = False
    silent: list[str] = field(default_factory=list)        # expect_silent, asserted
    ignored: list[str] = field(default_factory=list)       # untestable alerts that fired (host load)
    observed: dict[str, list[float]] = field(default_factory=dict)  # observe query -> values

    @property
    def ok(self) -> bool:
        return not self.failures and all(not a.failures for a in self.alerts)

    def to_json(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        for a, obj in zip(d["alerts"], self.alerts):
            a["ratio"] = obj.ratio
        return d


class Observer:
    """Polls Prometheus' alerts and the sink's notifications."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.seen = len(self.notifications())

    def alerts(self) -> list[dict]:
        r = requests.get(f"{self.stack.prometheus_url}/api/v1/alerts", timeout=5)
        r.raise_for_status()
        return r.json()["data"]["alerts"]

    def notifications(self) -> list[dict]:
        r = requests.get(f"{self.stack.sink_url}/notifications", timeout=5)
        r.raise_for_status()
        data = r.json()
        return data if isinstance(data, list) else data.get("notifications", [])

    def new_notifications(self) -> list[dict]:
        return self.notifications()[self.seen:]


def _matches(alert: dict, exp: Expect) -> bool:
    labels = alert.get("labels", {})
    return labels.get("alertname") == exp.alert and all(labels.get(k) == v for k, v in exp.labels.items())


def _note_for(n: dict, alert: str, receiver: str, status: str) -> bool:
    if n.get("receiver") != receiver:
        return False
    names = n.get("alertnames") or []
    if names and alert not in names:
        return False
    per = [a.get("status") for a in n.get("alerts") or [] if a.get("alertname") == alert and a.get("status")]
    st = per[0] if per else n.get("status")
    return st is None or st == status


Progress = Callable[[str], None]


_last_line = [0.0]


def _stderr_progress(line: str) -> None:
    """A live line on a terminal; one line every 5s otherwise (CI logs)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + line)
    elif time.monotonic() - _last_line[0] >= 5:
        _last_line[0] = time.monotonic()
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _service_state(stack: Any, fault: dict, on: bool) -> None:
    if fault.get("stop_service"):
        (stack.stop_service if on else stack.start_service)()
    if "control" in fault:
        url = f"{stack.control_url}/faults"
        r = requests.post(url, json=fault["control"], timeout=5) if on else requests.delete(url, timeout=5)
        if r.status_code >= 400:
            raise RuntimeError(f"fault control answered {r.status_code}: {r.text[:200]}")


def run_drill(stack: Any, drill: Drill, timings: Timings, *, workers: int = 0, allow_remote: bool = False,
              progress: Progress | None = _stderr_progress,
              under_traffic: Callable[[], None] | None = None,
              ignore: frozenset[str] | set[str] = frozenset()) -> DrillResult:
    """Run one drill: traffic, fault, wait for expectations, clear, wait for resolution."""
    speed = stack.speed
    res = DrillResult(drill.name, drill.path, baseline=drill.baseline)
    t_start = time.monotonic()
    obs = Observer(stack)
    pre_existing = {a["labels"].get("alertname") for a in obs.alerts() if a.get("state") == "firing"}
    expects = []
    for e in drill.expect:
        cross = e.crosses_after / speed
        per = {r: timings.min_notify_s(e.alert, r, e.labels) + cross for r in e.receivers}
        min_fire = timings.min_fire_s(e.alert) + cross
        expects.append(AlertResult(e.alert, list(e.receivers), min_fire_s=min_fire,
                                   min_notify_s=max(per.values(), default=min_fire),
                                   min_notify_by_receiver=per,
                                   min_resolve_s=timings.min_resolve_s(e.alert),
                                   deadline_s=e.fire_within / speed + GRACE_S))
    res.alerts = expects
    res.silent = list(drill.expect_silent)
    # A misspelt name would make the assertion vacuous: every named alert must exist in the rules.
    unknown = sorted({n for n in [*drill.expect_silent, *(e.alert for e in drill.expect)]
                      if timings.alerts and n not in timings.alerts})
    if unknown:
        res.failures.append(f"no rule on the stack defines alert(s) {', '.join(unknown)}")
        return res
    longest = max([a.deadline_s + a.min_resolve_s + timings.group_interval_ms / 1000 for a in expects] or [0])
    fault_at = drill.fault.get("at", 0 if drill.baseline else WARMUP_S) if drill.fault else 0
    run_for = (fault_at + drill.duration / speed if drill.baseline else
               fault_at + 2 * longest + 2 * GRACE_S)
    load = LocustRun(stack.service_url, drill.traffic, run_for + 30, workers=workers, allow_remote=allow_remote)
    fault_load: LocustRun | None = None
    fault_on = False
    try:
        load.start()
        t_fault = time.monotonic()
        if drill.expect and not _settle(stack, drill, obs, res, timings, progress):
            return res
        if drill.fault:
            time.sleep(fault_at)
            if "traffic" in drill.fault:
                fault_load = LocustRun(stack.service_url, drill.fault["traffic"], run_for, allow_remote=allow_remote)
                fault_load.start()
            _service_state(stack, drill.fault, True)
            fault_on = True
            t_fault = time.monotonic()
        if drill.baseline:
            # With a fault this is a within-budget run: the fault is held for the whole duration.
            _baseline(stack, drill, obs, res, drill.duration / speed, progress, pre_existing, ignore)
        else:
            _watch(stack, drill, obs, res, progress, pre_existing)
        _observe(stack, drill, res, time.monotonic() - t_fault)
        if drill.baseline and under_traffic:
            under_traffic()  # e.g. the dashboard check, while the load still runs
        if fault_on:
            if fault_load:
                fault_load.stop()
            _service_state(stack, drill.fault, False)
            fault_on = False
        if not drill.baseline:
            _watch_resolution(stack, drill, obs, res, timings, progress)
    finally:
        if fault_on:
            try:
                _service_state(stack, drill.fault, False)
            except Exception:  # noqa: BLE001, S110 - best effort while unwinding
                pass
        if fault_load:
            fault_load.cleanup()
        load.stop()
        res.load = load.stats()
        if load.procs == [] and not res.load and drill.baseline:
            res.failures.append(f"locust produced no statistics; log:\n{load.log_tail()}")
        load.cleanup()
        res.wall_s = time.monotonic() - t_start
        if progress and sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
    return res


def _settle(stack: Any, drill: Drill, obs: Observer, res: DrillResult, timings: Timings,
            progress: Progress | None) -> bool:
    """Wait until no expected alert is still active from an earlier drill.

    Time-to-fire is meaningless for an alert that already fires (e.g. HighErrorRate left by the
    5xx of /health in health-unhealthy); waits at most the slowest resolution the drill expects.
    """
    limit = max([a.min_resolve_s for a in res.alerts] or [0]) * 2 + GRACE_S
    t0 = time.monotonic()
    while True:
        stack.check_alive()
        busy = sorted({e.alert for e in drill.expect for a in obs.alerts() if _matches(a, e)})
        if not busy:
            return True
        if time.monotonic() - t0 > limit:
            res.failures.append(f"still active from an earlier drill {limit:.1f}s before the fault, so "
                                f"time-to-fire cannot be measured: {', '.join(busy)}")
            return False
        if progress:
            progress(f"[{drill.name}] waiting for {', '.join(busy)} to resolve before the fault")
        time.sleep(POLL_S)


def _baseline(stack: Any, drill: Drill, obs: Observer, res: DrillResult, run_for: float,
              progress: Progress | None, pre_existing: set, ignore: frozenset[str] | set[str]) -> None:
    end = time.monotonic() + run_for
    fired: set[str] = set()
    while time.monotonic() < end:
        stack.check_alive()
        for a in obs.alerts():
            name = a["labels"].get("alertname")
            if a.get("state") == "firing" and name not in pre_existing:
                fired.add(name)
        if progress:
            progress(f"[{drill.name}] {end - time.monotonic():5.1f}s left, alerts fired: {len(fired)}")
        time.sleep(POLL_S)
    for n in obs.new_notifications():
        fired.update(n.get("alertnames") or [f"(notification to {n.get('receiver')})"])
    # Alerts declared untestable (host CPU, memory, disk) describe the shared machine the stack
    # runs on, not the service under test: recorded, never a failure. expect_silent still wins.
    res.ignored = sorted((fired & set(ignore)) - set(drill.expect_silent))
    fired -= set(res.ignored)
    res.unexpected = sorted(fired)
    loud = sorted(fired & set(drill.expect_silent))
    if loud:
        res.failures.append(f"expected silent but fired: {', '.join(loud)}")
    others = sorted(fired - set(loud))
    if others:
        kind = "within-budget run" if drill.fault else "healthy baseline"
        res.failures.append(f"{kind} fired: {', '.join(others)}")


def _observe(stack: Any, drill: Drill, res: DrillResult, since_fault_s: float) -> None:
    """Evaluate the drill's ``observe`` queries; each must return data within its bounds."""
    window = format_duration(max(int(since_fault_s * 1000), 1000))
    for o in drill.observe:
        q = o.query.replace("$__fault", window)
        where = f"{drill.path}:{o.line}"
        try:
            body = requests.get(f"{stack.prometheus_url}/api/v1/query", params={"query": q}, timeout=10).json()
        except (requests.RequestException, ValueError) as e:
            res.failures.append(f"{where}: observe {q}: {e}")
            continue
        if body.get("status") != "success":
            res.failures.append(f"{where}: observe {q}: {body.get('error')}")
            continue
        values = [float(r["value"][1]) for r in body["data"]["result"]]
        res.observed[q] = values
        if not values:
            res.failures.append(f"{where}: observe {q}: no data (the fault left no trace)")
        for v in values:
            if (o.above is not None and not v > o.above) or (o.below is not None and not v < o.below):
                res.failures.append(f"{where}: observe {q} = {v:g}, outside ({o.above}, {o.below})")


def _watch(stack: Any, drill: Drill, obs: Observer, res: DrillResult, progress: Progress | None,
           pre_existing: set | frozenset = frozenset()) -> None:
    t0 = time.monotonic()
    deadline = max(a.deadline_s for a in res.alerts)
    expected = {e.alert for e in drill.expect}
    while True:
        now = time.monotonic() - t0
        stack.check_alive()
        active = obs.alerts()
        for a in active:
            if a.get("state") == "firing" and a["labels"].get("alertname") not in expected:
                res.unexpected.append(a["labels"]["alertname"])
        notes = obs.new_notifications()
        for name in drill.expect_silent:
            if name in pre_existing:  # still resolving from an earlier drill: not this fault's doing
                continue
            if any(a.get("state") == "firing" and a["labels"].get("alertname") == name for a in active) or \
                    any(name in (n.get("alertnames") or []) for n in notes):
                msg = f"{name} fired although the drill expects it silent"
                if msg not in res.failures:
                    res.failures.append(msg)
        for exp, ar in zip(drill.expect, res.alerts):
            if ar.fired_s is None and any(_matches(a, exp) and a.get("state") == "firing" for a in active):
                ar.fired_s = now
            for rcv in ar.receivers:
                if rcv not in ar.notified_s and any(_note_for(n, exp.alert, rcv, "firing") for n in notes):
                    ar.notified_s[rcv] = now
        done = all(a.fired_s is not None and len(a.notified_s) == len(a.receivers) for a in res.alerts)
        if progress:
            fired = sum(a.fired_s is not None for a in res.alerts)
            noted = sum(len(a.notified_s) for a in res.alerts)
            want = sum(len(a.receivers) for a in res.alerts)
            progress(f"[{drill.name}] fault +{now:5.1f}s  fired {fired}/{len(res.alerts)}  "
                     f"notified {noted}/{want}")
        if done or now > deadline:
            break
        time.sleep(POLL_S)
    res.unexpected = sorted(set(res.unexpected))
    notes = obs.new_notifications()
    for ar in res.alerts:
        if not ar.receivers:  # `receivers: []` asserts silence (e.g. inhibited alerts)
            leaked = sorted({n.get("receiver", "?") for n in notes if ar.alert in (n.get("alertnames") or [])})
            if leaked:
                ar.failures.append(f"{ar.alert} must notify nobody but reached {', '.join(leaked)}")
        if ar.fired_s is None:
            ar.failures.append(f"{ar.alert} did not fire within {ar.deadline_s:.1f}s of the fault")
        for rcv in ar.receivers:
            if rcv not in ar.notified_s:
                ar.failures.append(f"{ar.alert}: no notification reached receiver {rcv} within "
                                   f"{ar.deadline_s:.1f}s (got: {_receivers_seen(obs, ar.alert)})")


def _receivers_seen(obs: Observer, alert: str) -> str:
    seen = sorted({n.get("receiver", "?") for n in obs.new_notifications()
                   if not n.get("alertnames") or alert in n["alertnames"]})
    return ", ".join(seen) or "none"


def _watch_resolution(stack: Any, drill: Drill, obs: Observer, res: DrillResult, timings: Timings,
                      progress: Progress | None) -> None:
    wanted = [(e, a) for e, a in zip(drill.expect, res.alerts) if e.resolves and a.fired_s is not None]
    if not wanted:
        return
    t0 = time.monotonic()
    limit = max(a.min_resolve_s for _, a in wanted) * 2 + timings.group_interval_ms / 1000 + GRACE_S
    while True:
        now = time.monotonic() - t0
        stack.check_alive()
        active = obs.alerts()
        for e, a in wanted:
            if a.resolved_s is None and not any(_matches(x, e) for x in active):
                a.resolved_s = now
        if progress:
            progress(f"[{drill.name}] cleared +{now:5.1f}s  resolved "
                     f"{sum(a.resolved_s is not None for _, a in wanted)}/{len(wanted)}")
        if all(a.resolved_s is not None for _, a in wanted) or now > limit:
            break
        time.sleep(POLL_S)
    for _, a in wanted:
        if a.resolved_s is None:
            a.failures.append(f"{a.alert} still active {limit:.1f}s after the fault was cleared")


def run_all(stack: Any, drills: list[Drill], *, workers: int = 0, allow_remote: bool = False,
            progress: Progress | None = _stderr_progress) -> list[DrillResult]:
    """Run drills one after the other (they share one service), in ``run_order``."""
    timings = stack_timings(stack)
    ordered = run_order(drills)
    ignore = untestable_alerts(drills)
    return [run_drill(stack, d, timings, workers=workers, allow_remote=allow_remote, progress=progress,
                      ignore=ignore) for d in ordered]


def untestable_alerts(drills: list[Drill]) -> frozenset[str]:
    """Alerts declared ``untestable`` by any drill file (ignored, but recorded, by baselines)."""
    return frozenset(u["alert"] for d in drills for u in d.untestable if u.get("alert"))


MIXED = Traffic(users=6, spawn_rate=6, rate_per_user=2, classes={"ApiUser": 2, "AnalyticsUser": 1})


def with_mixed_traffic(stack: Any, fn: Callable[[], Any], seconds: float = 3.0) -> Any:
    """Call ``fn`` after ``seconds`` of bounded mixed traffic, while that traffic still runs."""
    with LocustRun(stack.service_url, MIXED, seconds + 60):
        time.sleep(seconds)
        return fn()
