"""Run fire drills against a running local stack and time every expectation from the stack's data.

For each expected alert, the timeline comes from Prometheus and the sink, not from polling:
*condition held* (the rule's ``activeAt``: the evaluation at which the expression first returned
the alert), *fired* (the first ``ALERTS{alertstate="firing"}`` sample, written by that
evaluation), *delivered* per receiver (the sink's receipt of this instance's notification, see
``moncheck.drills.notifications``), *resolved*. Three delays each meet a floor or fail the drill:
detection (fault -> condition) against ``moncheck.drills.predict``, pipeline (condition -> fired)
between ``for`` and ``for`` + one evaluation + one scrape, delivery (fired -> receiver) at least
the group_wait of the route that reaches the receiver.
"""

from __future__ import annotations

import glob
import math
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
from moncheck.promapi import ApiError, Prometheus
from moncheck.drills import content, predict
from moncheck.drills.compress import parse_duration_ms
from moncheck.drills.locust_proc import LocustRun
from moncheck.drills.notifications import Instance, parse_time
from moncheck.drills.promql_print import format_duration
from moncheck.drills.spec import Drill, Expect, Traffic

POLL_S = 0.2
GRACE_S = 5.0          # wall-clock slack on top of compressed deadlines (process start, polling)
WARMUP_S = 3.0         # traffic before the fault, unless the drill says `fault.at`


@dataclass
class Rule:
    labels: dict[str, str]
    expr: str
    for_ms: int


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
    rules: dict[str, list[Rule]] = field(default_factory=dict)   # alert -> its (compressed) rules
    recorded: dict[str, list[tuple[dict[str, str], str]]] = field(default_factory=dict)
    # receiver -> [(integration, send_resolved)] as Alertmanager defaults them
    integrations: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)

    def rules_for(self, alert: str, expected: dict[str, str]) -> list[Rule]:
        """The rules an expectation means: same name, static labels consistent with its labels."""
        return [r for r in self.rules.get(alert, [])
                if all(r.labels.get(k, v) == v for k, v in expected.items())]

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
    recorded_exprs: dict[str, list[tuple[dict[str, str], str]]] = {}
    for r in rules:
        if "record" in r:
            recorded_exprs.setdefault(r["record"], []).append(
                ({k: str(v) for k, v in (r.get("labels") or {}).items()}, str(r["expr"])))
    for _ in range(3):  # recording rules built on recording rules
        for r in rules:
            if "record" in r:
                recorded[r["record"]] = max(recorded.get(r["record"], 0), _max_range(str(r["expr"]), recorded))
    alerts: dict[str, dict[str, int]] = {}
    labels: dict[str, list[dict[str, str]]] = {}
    by_alert: dict[str, list[Rule]] = {}
    for r in rules:
        if "alert" not in r:
            continue
        static = {k: str(v) for k, v in (r.get("labels") or {}).items()}
        labels.setdefault(r["alert"], []).append(static)
        by_alert.setdefault(r["alert"], []).append(
            Rule(static, str(r["expr"]), parse_duration_ms(r.get("for", "0s")) or 0))
        # Several rules may share a name (SLO page + ticket): the fastest one bounds the minimum.
        for_ms = parse_duration_ms(r.get("for", "0s")) or 0
        window = _max_range(str(r["expr"]), recorded)
        cur = alerts.setdefault(r["alert"], {"for_ms": for_ms, "window_ms": window})
        cur["for_ms"] = min(cur["for_ms"], for_ms)
        cur["window_ms"] = min(cur["window_ms"], window)
    return Timings(parse_duration_ms(g.get("scrape_interval")) or 60_000,
                   parse_duration_ms(g.get("evaluation_interval")) or 60_000,
                   parse_duration_ms(route.get("group_wait")) or 0,
                   parse_duration_ms(route.get("group_interval")) or 0, alerts, route, labels,
                   by_alert, recorded_exprs, receiver_integrations(am))


# Alertmanager's defaults of `send_resolved` per integration.
SEND_RESOLVED_DEFAULT = {"slack": False, "pagerduty": True, "email": False, "webhook": True}


def receiver_integrations(am: dict) -> dict[str, list[tuple[str, bool]]]:
    """receiver -> [(integration, send_resolved)] of the stack's Alertmanager config (sink names)."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for rec in am.get("receivers") or []:
        items = []
        for key, integration in (("slack_configs", "slack"), ("pagerduty_configs", "pagerduty"),
                                 ("email_configs", "email"), ("webhook_configs", "webhook")):
            for c in rec.get(key) or []:
                if integration == "webhook" and "/shadow/" in str(c.get("url", "")):
                    continue
                items.append((integration, bool(c.get("send_resolved", SEND_RESOLVED_DEFAULT[integration]))))
        out[str(rec.get("name"))] = items
    return out


@dataclass
class AlertResult:
    """One expectation's timeline (unix seconds from the stack's data) and its delays and floors."""

    alert: str
    receivers: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    fault_at: float | None = None
    first_active_at: float | None = None  # condition first held (the rule's activeAt)
    active_at: float | None = None      # activeAt of the instance that fired (`for` ran from it)
    resets: int = 0                     # times the condition stopped holding before it fired
    fired_at: float | None = None       # first ALERTS{alertstate="firing"} sample
    notified_at: dict[str, float] = field(default_factory=dict)
    cleared_at: float | None = None
    resolved_at: float | None = None
    resolve_notified_at: dict[str, float] = field(default_factory=dict)
    fingerprint: str | None = None
    detection_floor_s: float | None = None
    detection_model: str = ""
    pipeline_floor_s: float = 0.0       # `for`
    pipeline_bound_s: float = 0.0       # `for` + one evaluation + one scrape
    delivery_floor_s: dict[str, float] = field(default_factory=dict)  # group_wait of the route
    min_resolve_s: float = 0.0
    deadline_s: float = 0.0
    notifications: list[dict] = field(default_factory=list)  # the sink records of this instance
    content_findings: list[str] = field(default_factory=list)  # drills/notification findings
    failures: list[str] = field(default_factory=list)

    def _since(self, t: float | None, ref: float | None) -> float | None:
        return None if t is None or ref is None else t - ref

    @property
    def fired_s(self) -> float | None:
        return self._since(self.fired_at, self.fault_at)

    @property
    def notified_s(self) -> dict[str, float]:
        return {r: t - self.fault_at for r, t in self.notified_at.items()} if self.fault_at else {}

    @property
    def resolved_s(self) -> float | None:
        return self._since(self.resolved_at, self.cleared_at)

    @property
    def detection_s(self) -> float | None:
        return self._since(self.first_active_at or self.active_at, self.fault_at)

    @property
    def pipeline_s(self) -> float | None:
        return self._since(self.fired_at, self.active_at)

    @property
    def delivery_s(self) -> dict[str, float]:
        return {r: t - self.fired_at for r, t in self.notified_at.items()} if self.fired_at else {}

    def over_floor(self) -> dict[str, float | None]:
        """delay / floor per delay (None where the floor is 0 or unknown)."""
        out: dict[str, float | None] = {}
        d = self.detection_s
        out["detection"] = d / self.detection_floor_s if d is not None and self.detection_floor_s else None
        p = self.pipeline_s
        out["pipeline"] = p / self.pipeline_floor_s if p is not None and self.pipeline_floor_s else None
        ratios = [v / self.delivery_floor_s[r] for r, v in self.delivery_s.items() if self.delivery_floor_s.get(r)]
        out["delivery"] = max(ratios) if ratios else None  # the slowest receiver
        return out

    def check_floors(self, scrape_skew_s: float = 0.0) -> None:
        """A delay below its floor is a wrong model or a wrong measurement: fail, saying which.

        ``scrape_skew_s``: the longest scrape of the fault's period. A sample carries the time its
        scrape started, but the service answered later, so the data can show the fault up to that
        long before the measured detection would allow."""
        d, p = self.detection_s, self.pipeline_s
        floor = None if self.detection_floor_s is None else max(0.0, self.detection_floor_s - scrape_skew_s)
        if d is not None and floor is not None and d < floor:
            self.failures.append(
                f"{self.alert}: detection {d:.2f}s is below its predicted floor {floor:.2f}s "
                f"({self.detection_model}; less {scrape_skew_s:.2f}s of scrape time): the prediction "
                "does not hold for this rule and fault")
        if p is not None and p < self.pipeline_floor_s - 0.001:
            self.failures.append(
                f"{self.alert}: fired {p:.2f}s after its condition held, less than `for` "
                f"({self.pipeline_floor_s:.2f}s): the condition time is wrong")
        if p is not None and p > self.pipeline_bound_s + 0.001:
            self.failures.append(
                f"{self.alert}: fired {p:.2f}s after its condition held, more than `for` + one evaluation "
                f"+ one scrape ({self.pipeline_bound_s:.2f}s): evaluations ran late (overloaded machine?)")
        for r, v in sorted(self.delivery_s.items()):
            floor = self.delivery_floor_s.get(r, 0.0)
            if v < floor - 0.001:
                self.failures.append(
                    f"{self.alert}: reached {r} {v:.2f}s after firing, before its route's group_wait "
                    f"({floor:.2f}s): the notification is not this instance's first")


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
    scrape_failures: dict[str, tuple[int, int]] = field(default_factory=dict)  # job -> (failed, scrapes)

    @property
    def ok(self) -> bool:
        return not self.failures and all(not a.failures for a in self.alerts)

    def to_json(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        for a, obj in zip(d["alerts"], self.alerts):
            a.pop("notifications", None)
            a.update(detection_s=obj.detection_s, pipeline_s=obj.pipeline_s, delivery_s=obj.delivery_s,
                     fired_s=obj.fired_s, resolved_s=obj.resolved_s, over_floor=obj.over_floor(),
                     notifications_checked=len(obj.notifications))
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
        rules = timings.rules_for(e.alert, e.labels) or timings.rules.get(e.alert, [])
        for_s = min((r.for_ms for r in rules), default=0) / 1000
        expects.append(AlertResult(
            e.alert, list(e.receivers), labels=dict(e.labels), pipeline_floor_s=for_s,
            pipeline_bound_s=for_s + (timings.eval_ms + timings.scrape_ms) / 1000,
            delivery_floor_s={r: timings.group_wait_s(e.alert, r, e.labels) for r in e.receivers},
            min_resolve_s=timings.min_resolve_s(e.alert), deadline_s=e.fire_within / speed + GRACE_S))
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
    load = stack.load(drill.traffic, run_for + 30, workers=workers, allow_remote=allow_remote)
    fault_load: LocustRun | None = None
    fault_on = False
    try:
        load.start()
        t_fault = time.monotonic()
        if drill.expect and not _settle(stack, drill, obs, res, timings, progress):
            return res
        if drill.fault:
            time.sleep(fault_at)
            _predict(stack, drill, timings, res, time.monotonic() - t_fault)
            fault_unix = time.time()  # before the fault can act: delays are never under-measured
            for a in res.alerts:
                a.fault_at = fault_unix
            if "traffic" in drill.fault:
                fault_load = stack.load(drill.fault["traffic"], run_for, allow_remote=allow_remote)
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
            cleared = time.time()
            for a in res.alerts:
                a.cleared_at = cleared
        if not drill.baseline:
            _watch_resolution(stack, drill, obs, res, timings, progress)
            _read_notifications(stack, obs, res)
            skew = _scrape_skew_s(stack, time.monotonic() - t_fault)
            for a in res.alerts:
                a.check_floors(skew)
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
        _scrape_health(stack, drill, res)
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


def _instance(ar: AlertResult) -> Instance:
    inst = getattr(ar, "_instance", None)
    if inst is None:
        inst = Instance(ar.alert, ar.labels, ar.fault_at or 0.0)
        object.__setattr__(ar, "_instance", inst)
    return inst


def _watch(stack: Any, drill: Drill, obs: Observer, res: DrillResult, progress: Progress | None,
           pre_existing: set | frozenset = frozenset()) -> None:
    t0 = time.monotonic()
    deadline = max(a.deadline_s for a in res.alerts)
    expected = {e.alert for e in drill.expect}
    polled_fire: dict[int, float] = {}
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
        for i, (exp, ar) in enumerate(zip(drill.expect, res.alerts)):
            for a in active:
                if not _matches(a, exp):
                    continue
                at = parse_time(a.get("activeAt"))
                if at is None or ar.fault_at is None or at < ar.fault_at - 0.001 or i in polled_fire:
                    continue
                if ar.first_active_at is None or at < ar.first_active_at:
                    ar.first_active_at = at
                if ar.active_at is not None and at != ar.active_at:
                    ar.resets += 1  # the condition stopped holding and `for` started again
                ar.active_at = at   # the activeAt of the instance that fires is the one `for` ran from
                if a.get("state") == "firing":
                    polled_fire[i] = time.time()
            inst = _instance(ar)
            for rcv in ar.receivers:
                if rcv not in ar.notified_at:
                    got = inst.deliveries(notes, rcv, "firing")
                    if got:
                        ar.notified_at[rcv] = min(float(n["received_at"]) for n in got)
        done = all(i in polled_fire and len(a.notified_at) == len(a.receivers) for i, a in enumerate(res.alerts))
        if progress:
            fired = len(polled_fire)
            noted = sum(len(a.notified_at) for a in res.alerts)
            want = sum(len(a.receivers) for a in res.alerts)
            progress(f"[{drill.name}] fault +{now:5.1f}s  fired {fired}/{len(res.alerts)}  "
                     f"notified {noted}/{want}")
        if done or now > deadline:
            break
        time.sleep(POLL_S)
    res.unexpected = sorted(set(res.unexpected))
    notes = obs.new_notifications()
    for i, ar in enumerate(res.alerts):
        if i in polled_fire:
            ar.fired_at = _first_firing_sample(stack, ar) or polled_fire[i]
        inst = _instance(ar)
        ar.fingerprint = inst.fingerprint
        for rcv in ar.receivers:
            ar.notifications += inst.deliveries(notes, rcv, "firing")
        if not ar.receivers:  # `receivers: []` asserts silence (e.g. inhibited alerts)
            leaked = sorted({n.get("receiver", "?") for n in notes if n.get("integration") == "shadow"
                             and any(inst.matches(a, "firing") for a in n.get("alerts") or [])})
            if leaked:
                ar.failures.append(f"{ar.alert} must notify nobody but reached {', '.join(leaked)}")
        if i not in polled_fire:
            ar.failures.append(f"{ar.alert} did not fire within {ar.deadline_s:.1f}s of the fault")
        for rcv in ar.receivers:
            if rcv not in ar.notified_at:
                other = " (only notifications of another instance)" if rcv in inst.foreign else ""
                ar.failures.append(f"{ar.alert}: no notification of this drill's instance reached receiver "
                                   f"{rcv} within {ar.deadline_s:.1f}s{other} (got: {_receivers_seen(obs, ar.alert)})")


def _first_firing_sample(stack: Any, ar: AlertResult) -> float | None:
    """Timestamp of the evaluation that first wrote ALERTS{alertstate="firing"} for this instance."""
    if ar.fault_at is None:
        return None
    window = max(1, int(time.time() - ar.fault_at + 2))
    sel = ",".join([f'alertname="{ar.alert}"', 'alertstate="firing"',
                    *(f'{k}="{v}"' for k, v in sorted(ar.labels.items()))])
    try:
        body = requests.get(f"{stack.prometheus_url}/api/v1/query",
                            params={"query": f"ALERTS{{{sel}}}[{window}s]"}, timeout=10).json()
        times = [float(t) for r in body["data"]["result"] for t, _ in r["values"]]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None
    after = [t for t in times if ar.active_at is None or t >= ar.active_at - 0.001]
    return min(after) if after else None


def _scrape_health(stack: Any, drill: Drill, res: DrillResult) -> None:
    """Failed scrapes of jobs the drill did not stop, said next to its failures.

    A failed scrape marks every series of the target stale: pending alerts start `for` again,
    `up` falls (TargetDown, ScrapeFailures). On a shared, overloaded machine a Python service can
    miss the compressed scrape timeout; the failure then says so instead of looking like a rule bug.
    """
    try:
        window = format_duration(max(int(res.wall_s * 1000), 1000))
        body = requests.get(f"{stack.prometheus_url}/api/v1/query", timeout=5, params={
            "query": f"count_over_time(up[{window}]) - sum_over_time(up[{window}])"}).json()
        totals = requests.get(f"{stack.prometheus_url}/api/v1/query", timeout=5, params={
            "query": f"count_over_time(up[{window}])"}).json()
        total = {r["metric"].get("job", "?"): int(float(r["value"][1])) for r in totals["data"]["result"]}
        failed = {r["metric"].get("job", "?"): int(float(r["value"][1])) for r in body["data"]["result"]}
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return
    stopped = "gocarbon-api" if drill.fault.get("stop_service") else None
    res.scrape_failures = {job: (n, total.get(job, 0)) for job, n in failed.items() if n and job != stopped}
    if res.scrape_failures and not res.ok:
        where = ", ".join(f"{job} {n}/{t}" for job, (n, t) in sorted(res.scrape_failures.items()))
        res.failures.append(f"failed scrapes during this drill ({where}): the machine could not answer within "
                            "the compressed scrape interval (overloaded?); stale series reset pending alerts "
                            "and lower `up`, so the failures above may be the machine's, not the rules'")


def _read_notifications(stack: Any, obs: Observer, res: DrillResult) -> None:
    """Every notification of each instance, read as a person reads it (``moncheck.drills.content``)."""
    templates = content.Templates(Path(stack.repo))
    records = obs.notifications()
    for a in res.alerts:
        seen: set[str] = set()
        for n in a.notifications:
            alert = content.alert_of(records, n, a.fingerprint)
            if alert is None:
                a.failures.append(f"{a.alert}: the {n.get('integration')} notification to {n.get('receiver')} "
                                  "has no matching alert in its flush")
                continue
            for f in content.check(n, alert, templates):
                if f.text() not in seen:
                    seen.add(f.text())
                    a.content_findings.append(f.text())
        a.failures += a.content_findings


def _scalar(stack: Any, expr: str) -> float | None:
    """An instant query's single value on the stack; None when empty or Prometheus cannot say."""
    try:
        return Prometheus(stack.prometheus_url, timeout=5).scalar(expr)
    except (ApiError, ValueError, KeyError, IndexError, TypeError):
        return None


def _data_age_s(stack: Any, scrape_s: float) -> float:
    """How long the stack's Prometheus has been scraping: the most samples of any ``up`` series."""
    samples = _scalar(stack, "max(count_over_time(up[1d]))")
    return samples * scrape_s if samples is not None else time.monotonic() - stack.started_at


def _scrape_skew_s(stack: Any, seconds: float) -> float:
    """The longest scrape of the last ``seconds`` on the stack (0 when Prometheus cannot say)."""
    return _scalar(stack, f"max(max_over_time(scrape_duration_seconds[{max(1, math.ceil(seconds))}s]))") or 0.0


def _predict(stack: Any, drill: Drill, timings: Timings, res: DrillResult, traffic_s: float) -> None:
    """Each expectation's detection floor, from its rules and the drill, just before the fault.

    The windows hold data only since Prometheus' first scrape, and request counters only since
    the drill's traffic began (``traffic_s`` ago): the younger of the two is the age that bounds
    how much healthy data a window holds (``moncheck.drills.predict``).
    """
    def exists(selector: str) -> bool:
        try:
            return bool(Prometheus(stack.prometheus_url, timeout=5).query(f"count({selector})"))
        except (ApiError, ValueError, KeyError):
            return True  # unknown: assume the window model (the larger floor is then reported)
    t = drill.traffic
    scrape_s = timings.scrape_ms / 1000
    age = min(traffic_s, _data_age_s(stack, scrape_s))
    ctx = predict.Context(timings.recorded, drill.fault, t.users * t.rate_per_user, age, scrape_s, exists,
                          burst_s=1 / t.rate_per_user if t.rate_per_user > 0 else 0.0)
    for exp, ar in zip(drill.expect, res.alerts):
        rules = timings.rules_for(exp.alert, exp.labels) or timings.rules.get(exp.alert, [])
        preds = [predict.predict(r.expr, ctx) for r in rules]
        if not preds or any(p.floor_s is None for p in preds):
            ar.detection_model = next((p.model for p in preds if p.floor_s is None), "not predicted: no rule")
            continue
        best = min(preds, key=lambda p: p.floor_s or 0.0)
        ar.detection_floor_s, ar.detection_model = best.floor_s, best.model


def _receivers_seen(obs: Observer, alert: str) -> str:
    seen = sorted({n.get("receiver", "?") for n in obs.new_notifications()
                   if not n.get("alertnames") or alert in n["alertnames"]})
    return ", ".join(seen) or "none"


def _watch_resolution(stack: Any, drill: Drill, obs: Observer, res: DrillResult, timings: Timings,
                      progress: Progress | None) -> None:
    """Wait for each instance to resolve and its resolved notifications where send_resolved says."""
    wanted = [(e, a) for e, a in zip(drill.expect, res.alerts) if e.resolves and a.fired_at is not None]
    if not wanted:
        return
    t0 = time.monotonic()
    group_interval = timings.group_interval_ms / 1000
    limit = max(a.min_resolve_s for _, a in wanted) * 2 + group_interval + GRACE_S
    # Per (receiver, integration) that sends resolved notifications, one must come.
    want_resolved = {id(a): {(r, i) for r in a.receivers for i, sr in timings.integrations.get(r, []) if sr}
                     for _, a in wanted}
    while True:
        now = time.monotonic() - t0
        stack.check_alive()
        active = obs.alerts()
        notes = obs.new_notifications()
        for e, a in wanted:
            if a.resolved_at is None and not any(_matches(x, e) for x in active):
                a.resolved_at = time.time()
            inst = _instance(a)
            for r in a.receivers:
                got = inst.deliveries(notes, r, "resolved")
                if got and r not in a.resolve_notified_at:
                    a.resolve_notified_at[r] = min(float(n["received_at"]) for n in got)
        done = all(a.resolved_at is not None and
                   all(any(n.get("integration") == i for n in _instance(a).deliveries(notes, r, "resolved"))
                       for r, i in want_resolved[id(a)]) for _, a in wanted)
        if progress:
            progress(f"[{drill.name}] cleared +{now:5.1f}s  resolved "
                     f"{sum(a.resolved_at is not None for _, a in wanted)}/{len(wanted)}")
        if done or now > limit:
            break
        time.sleep(POLL_S)
    notes = obs.new_notifications()
    for _, a in wanted:
        if a.resolved_at is None:
            a.failures.append(f"{a.alert} still active {limit:.1f}s after the fault was cleared")
            continue
        inst = _instance(a)
        for r in a.receivers:
            got = inst.deliveries(notes, r, "resolved")
            a.notifications += got
            for integration, send_resolved in timings.integrations.get(r, []):
                sent = any(n.get("integration") == integration for n in got)
                if send_resolved and not sent:
                    a.failures.append(f"{a.alert}: receiver {r} ({integration}, send_resolved: true) got no "
                                      f"resolved notification of this instance")
                elif sent and not send_resolved:
                    a.failures.append(f"{a.alert}: receiver {r} ({integration}) got a resolved notification "
                                      f"although send_resolved is false")


def untestable_alerts(drills: list[Drill]) -> frozenset[str]:
    """Alerts declared ``untestable`` by any drill file (ignored, but recorded, by baselines)."""
    return frozenset(u["alert"] for d in drills for u in d.untestable if u.get("alert"))


MIXED = Traffic(users=6, spawn_rate=6, rate_per_user=2, classes={"ApiUser": 2, "AnalyticsUser": 1})


def with_mixed_traffic(stack: Any, fn: Callable[[], Any], seconds: float = 3.0) -> Any:
    """Call ``fn`` after ``seconds`` of bounded mixed traffic, while that traffic still runs."""
    with stack.load(MIXED, seconds + 60):
        time.sleep(seconds)
        return fn()
