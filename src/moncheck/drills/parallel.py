"""Drills in isolated stacks, several at once.

Each drill gets its own stack (service, Prometheus, Alertmanager, sink, node exporter on free
loopback ports, its own temporary directory), so no drill sees another's faults, alerts or
notifications: no settling, no run order, every SLO window starts clean. ``--jobs`` stacks run at
once (threads: the work is waiting). Drill stacks run no node exporter (no drill is about the
host). The dashboard panel check of a full run is one more job: a stack with the node exporter,
under mixed traffic and a mild combined fault, so panels about errors, latency, database failures,
poor web vitals and the host have data.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from moncheck.drills import dashboards, runner
from moncheck.drills.spec import Drill, Traffic, run_order
from moncheck.findings import Finding
from moncheck.stack import Stack, StackError, signals

# Measured on the 2-core machine: 15 drills, 4 stacks at once at 60x, used 0.8 of a core in all
# (the stacks mostly wait on compressed time); a stack holds about 250 MB.
STACK_MB = 400
PER_CORE = 3
MAX_JOBS = 8

# Enough for the rarer series (a login/logout session is 1 in ~17 API tasks) within the check's
# seconds under load; the dashboard job runs beside the drills, never on the longest path.
PANEL_TRAFFIC = Traffic(users=10, spawn_rate=10, rate_per_user=2,
                        classes={"ApiUser": 3, "AnalyticsUser": 2, "PoorVitalsUser": 1, "FrontendErrorUser": 1})
# Mild enough that the check is about panels, not alerts; present in every panel's series.
PANEL_FAULT = {"error_ratio": 0.05, "latency_ms": 300, "db_failures": 0.1, "db_latency_ms": 200}
PANEL_SECONDS = 15.0


def default_jobs() -> int:
    """Stacks at once: two per core, bounded by available memory and ``MAX_JOBS``."""
    cores = os.cpu_count() or 1
    avail_mb = _mem_available_mb()
    by_mem = max(1, avail_mb // STACK_MB) if avail_mb else MAX_JOBS
    return max(1, min(cores * PER_CORE, by_mem, MAX_JOBS))


def expected_s(drill: Drill, speed: float) -> float:
    """A rough length of the drill (scheduling order only): its duration or slowest deadline."""
    if drill.baseline:
        return drill.duration / speed
    return max((e.fire_within for e in drill.expect), default=0.0) / speed


def _mem_available_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclass
class Run:
    """The outcome of a parallel run."""

    results: list[runner.DrillResult] = field(default_factory=list)
    panels: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # stacks that could not start (exit 2)
    wall_s: float = 0.0


Progress = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_drills(repo: Path, drills: list[Drill], speed: float, *, jobs: int, workers: int = 0,
               allow_remote: bool = False, panels: bool = False,
               progress: Progress | None = _stderr) -> Run:
    """Every drill in its own stack, ``jobs`` at a time; results in ``run_order``."""
    ordered = run_order(drills)
    ignore = runner.untestable_alerts(drills)
    out = Run()
    t0 = time.monotonic()
    signals.hold()  # the first Ctrl-C/SIGTERM unwinds here; the workers see `interrupted()`
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="drill") as pool:
            futures: dict[Future[Any], str] = {}
            if panels:
                futures[pool.submit(_panels, repo, speed)] = "(dashboards)"
            # Longest first, so the run ends soon after its longest drill (LPT scheduling).
            for d in sorted(ordered, key=lambda d: -expected_s(d, speed)):
                futures[pool.submit(_one, repo, d, speed, workers, allow_remote, ignore)] = d.name
            done_names: dict[str, Any] = {}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                for f in finished:
                    name = futures[f]
                    try:
                        done_names[name] = f.result()
                    except StackError as e:
                        out.errors.append(f"{name}: {e}")
                        done_names[name] = None
                    if progress:
                        r = done_names[name]
                        state = ("stack error" if r is None else
                                 "ok" if not isinstance(r, runner.DrillResult) or r.ok else "FAIL")
                        progress(f"[{len(done_names)}/{len(futures)}] {name}: {state} "
                                 f"({time.monotonic() - t0:.0f}s)")
    finally:
        signals.release()
    for d in ordered:
        r = done_names.get(d.name)
        if isinstance(r, runner.DrillResult):
            out.results.append(r)
    if panels and isinstance(done_names.get("(dashboards)"), list):
        out.panels = done_names["(dashboards)"]
    out.wall_s = time.monotonic() - t0
    return out


def _one(repo: Path, drill: Drill, speed: float, workers: int, allow_remote: bool,
         ignore: frozenset[str]) -> runner.DrillResult:
    # No node exporter: no drill is about the host (host alerts are `untestable`), and six node
    # exporters scraped four times a second cost the shared machine most of a core.
    with Stack(repo, speed=speed, node_exporter=False) as s:
        timings = runner.stack_timings(s)
        return runner.run_drill(s, drill, timings, workers=workers, allow_remote=allow_remote,
                                progress=None, ignore=ignore)


def _panels(repo: Path, speed: float) -> list[Finding]:
    with Stack(repo, speed=speed) as s:
        scrape = runner.stack_timings(s).scrape_ms
        with s.load(PANEL_TRAFFIC, PANEL_SECONDS + 60):
            r = requests.post(f"{s.control_url}/faults", json=PANEL_FAULT, timeout=5)
            if r.status_code >= 400:
                raise StackError(f"fault control answered {r.status_code}: {r.text[:200]}")
            deadline = time.monotonic() + PANEL_SECONDS
            while time.monotonic() < deadline:
                s.check_alive()
                time.sleep(0.2)
            return dashboards.check_live(s, repo, scrape, time.monotonic() - s.started_at)
