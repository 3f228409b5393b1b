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
from typing import Any, Callable

import promql_parser as pp
import requests
import yaml

from moncheck.drills.compress import parse_duration_ms
from moncheck.drills.locust_proc import LocustRun
from moncheck.drills.spec import Drill, Expect, Traffic

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

    def min_fire_s(self, alert: str) -> float:
        a = self.alerts.get(alert, {})
        # The fault shows at the next scrape, the rule sees it at the next evaluation, then `for`.
        return (a.get("for_ms", 0) + self.scrape_ms + self.eval_ms) / 1000

    def min_notify_s(self, alert: str) -> float:
        return self.min_fire_s(alert) + self.group_wait_ms / 1000

    def min_resolve_s(self, alert: str) -> float:
        # Once cleared, the bad samples must leave the widest window the alert depends on.
        a = self.alerts.get(alert, {})
        return (a.get("window_ms", 0) + self.eval_ms) / 1000


def _max_range(expr: str, recorded: dict[str, int]) -> int:
    best = [0]
    try:
        tree = pp.parse(expr)
    except (ValueError, TypeError):
        return 0

    def visit(n: pp.Expr) -> None:
        if isinstance(n, pp.MatrixSelector):
            best[0] = max(best[0], round(n.range.total_seconds() * 1000))
        elif isinstance(n, pp.SubqueryExpr):
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
    for r in rules:
        if "alert" not in r:
            continue
        # Several rules may share a name (SLO page + ticket): the fastest one bounds the minimum.
        for_ms = parse_duration_ms(r.get("for", "0s")) or 0
        window = _max_range(str(r["expr"]), recorded)
        cur = alerts.setdefault(r["alert"], {"for_ms": for_ms, "window_ms": window})
        cur["for_ms"] = min(cur["for_ms"], for_ms)
        cur["window_ms"] = min(cur["window_ms"], window)
    return Timings(parse_duration_ms(g.get("scrape_interval")) or 60_000,
                   parse_duration_ms(g.get("evaluation_interval")) or 60_000,
                   parse_duration_ms(route.get("group_wait")) or 0,
                   parse_duration_ms(route.get("group_interval")) or 0, alerts)


@dataclass
class AlertResult:
    alert: str
    receivers: list[str]
    fired_s: float | None = None
    notified_s: dict[str, float] = field(default_factory=dict)
    resolved_s: float | None = None
    resolve_notified_s: dict[str, float] = field(default_factory=dict)
    min_fire_s: float = 0.0
    min_notify_s: float = 0.0
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
              under_traffic: Callable[[], None] | None = None) -> DrillResult:
    """Run one drill: traffic, fault, wait for expectations, clear, wait for resolution."""
    speed = stack.speed
    res = DrillResult(drill.name, drill.path, baseline=drill.baseline)
    t_start = time.monotonic()
    obs = Observer(stack)
    pre_existing = {a["labels"].get("alertname") for a in obs.alerts() if a.get("state") == "firing"}
    expects = [AlertResult(e.alert, list(e.receivers), min_fire_s=timings.min_fire_s(e.alert),
                           min_notify_s=timings.min_notify_s(e.alert),
                           min_resolve_s=timings.min_resolve_s(e.alert),
                           deadline_s=e.fire_within / speed + GRACE_S) for e in drill.expect]
    res.alerts = expects
    longest = max([a.deadline_s + a.min_resolve_s + timings.group_interval_ms / 1000 for a in expects] or [0])
    run_for = (drill.duration / speed if drill.baseline else
               drill.fault.get("at", WARMUP_S) + 2 * longest + 2 * GRACE_S)
    load = LocustRun(stack.service_url, drill.traffic, run_for + 30, workers=workers, allow_remote=allow_remote)
    fault_load: LocustRun | None = None
    fault_on = False
    try:
        load.start()
        if drill.baseline:
            _baseline(stack, drill, obs, res, run_for, progress, pre_existing)
            if under_traffic:
                under_traffic()  # e.g. the dashboard check, while the load still runs
        else:
            time.sleep(drill.fault.get("at", WARMUP_S))
            if "traffic" in drill.fault:
                fault_load = LocustRun(stack.service_url, drill.fault["traffic"], run_for, allow_remote=allow_remote)
                fault_load.start()
            _service_state(stack, drill.fault, True)
            fault_on = True
            _watch(stack, drill, obs, res, progress)
            if fault_load:
                fault_load.stop()
            _service_state(stack, drill.fault, False)
            fault_on = False
            _watch_resolution(stack, drill, obs, res, timings, progress)
    finally:
        if fault_on:
            try:
                _service_state(stack, drill.fault, False)
            except Exception:  # noqa: BLE001 - best effort while unwinding
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


def _baseline(stack: Any, drill: Drill, obs: Observer, res: DrillResult, run_for: float,
              progress: Progress | None, pre_existing: set) -> None:
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
    res.unexpected = sorted(fired)
    if fired:
        res.failures.append(f"healthy baseline fired: {', '.join(sorted(fired))}")


def _watch(stack: Any, drill: Drill, obs: Observer, res: DrillResult, progress: Progress | None) -> None:
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
    """Run drills one after the other (they share one service); baselines first."""
    timings = stack_timings(stack)
    ordered = sorted(drills, key=lambda d: not d.baseline)
    return [run_drill(stack, d, timings, workers=workers, allow_remote=allow_remote, progress=progress)
            for d in ordered]


MIXED = Traffic(users=6, spawn_rate=6, rate_per_user=2, classes={"ApiUser": 2, "AnalyticsUser": 1})


def with_mixed_traffic(stack: Any, fn: Callable[[], Any], seconds: float = 3.0) -> Any:
    """Call ``fn`` after ``seconds`` of bounded mixed traffic, while that traffic still runs."""
    with LocustRun(stack.service_url, MIXED, seconds + 60) as load:
        time.sleep(seconds)
        return fn()
