"""Benchmark of the fire drills on this machine: serial against parallel isolated stacks.

Runs every drill twice, each on its own stack: once one at a time (``--jobs 1``), once with
``--jobs N`` (default: from cores and memory), and prints both wall times and their ratio, the
delays-against-floors table of each mode, the worst delay over its floor per drill in both modes
(detection over its predicted floor, pipeline over `for`, delivery over the route's group_wait;
"n/p" where detection is not predicted), delays over their bound, the notifications checked and
the template findings; then the requests/s Locust sustains against the reference service with
one process and with ``--workers 2`` (a short, bounded run at maximum rate).

    .venv/bin/python bench/drills.py [--speed 60] [--jobs N] [--skip-serial] [--load-seconds 15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def locust_rps(stack: Any, users: int, seconds: int, workers: int) -> dict:
    from moncheck.drills.spec import Traffic
    traffic = Traffic(users=users, spawn_rate=users, rate_per_user=0, classes={"ApiUser": 1})
    with stack.load(traffic, seconds, workers=workers) as run:
        run.wait(seconds + 30)
        run.stop()
        stats = run.stats()
        if not stats:
            print(f"locust (workers={workers}) wrote no stats:\n{run.log_tail()}", file=sys.stderr)
        return stats


def worst(results: list[Any]) -> dict[str, str]:
    """drill -> its worst delay over floor (the largest ratio), as text."""
    out = {}
    for r in results:
        best: tuple[float, str] | None = None
        notes = []
        for a in r.alerts:
            for kind, v in a.over_floor().items():
                if v is not None and (best is None or v > best[0]):
                    best = (v, f"{a.alert} {kind}")
            if a.detection_floor_s is None:
                notes.append(f"{a.alert} detection n/p")
        text = f"{best[0]:.2f} ({best[1]})" if best else "-"
        out[r.name] = text + (f"; {', '.join(notes)}" if notes else "") + ("" if r.ok else "  FAIL")
    return out


def over_bound(results: list[Any]) -> list[str]:
    return [f"{r.name}: {m}" for r in results for a in r.alerts for m in a.failures
            if "more than `for`" in m or "below its" in m or "before its route" in m or "less than `for`" in m]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", type=float, default=60)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--skip-serial", action="store_true")
    ap.add_argument("--load-seconds", type=int, default=15)
    ap.add_argument("--users", type=int, default=20)
    args = ap.parse_args()
    from moncheck.drills import parallel, report
    from moncheck.drills.spec import load_drills
    from moncheck.stack import Stack

    drills = load_drills(REPO)
    jobs = args.jobs or parallel.default_jobs()
    modes = [("parallel", jobs)] if args.skip_serial else [("serial", 1), ("parallel", jobs)]
    runs = {}
    for label, n in modes:
        run = parallel.run_drills(REPO, drills, args.speed, jobs=n, progress=None)
        runs[label] = run
        print(f"== {label} (--jobs {n}) ==")
        print(report.table(run.results, args.speed, wall_s=run.wall_s, jobs=n))
        for e in run.errors:
            print(f"stack error: {e}")
        print()
    for label, run in runs.items():
        checked = sum(len(a.notifications) for r in run.results for a in r.alerts)
        findings = sum(len(a.content_findings) for r in run.results for a in r.alerts)
        print(f"{label}: {len(run.results)} drills in {run.wall_s:.1f}s; {sum(r.ok for r in run.results)} passed; "
              f"{checked} notifications checked, {findings} template findings; "
              f"delays outside floor/bound: {over_bound(run.results) or 'none'}")
    if "serial" in runs:
        s, p = runs["serial"].wall_s, runs["parallel"].wall_s
        print(f"wall time serial {s:.1f}s / parallel {p:.1f}s = {s / p:.2f}x (jobs {jobs})")
    print("\nworst delay over its floor, per drill:")
    w = {label: worst(run.results) for label, run in runs.items()}
    names = [r.name for r in next(iter(runs.values())).results]
    width = max(len(n) for n in names)
    for n in names:
        print(f"  {n:{width}}  " + "   ".join(f"{label}: {w[label].get(n, '-')}" for label in runs))
    with Stack(REPO, speed=args.speed) as stack:
        for workers in (0, 2):
            st = locust_rps(stack, args.users, args.load_seconds, workers)
            label = "1 process" if workers == 0 else f"--workers {workers}"
            print(f"locust {label}: {st.get('rps', 0):.0f} requests/s sustained "
                  f"({st.get('requests', 0):.0f} requests, {st.get('failures', 0):.0f} failures, "
                  f"{args.users} users, {args.load_seconds}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
