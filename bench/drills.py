"""Benchmark of the fire drills on this machine.

Prints: total wall time of all drills, each alert's time-to-fire over its theoretical minimum,
false alerts in the healthy baseline, and the requests/s Locust sustains against the reference
service with one process and with ``--workers 2`` (a short, bounded run at maximum rate).

    .venv/bin/python bench/drills.py [--speed 60] [--load-seconds 15] [--users 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def locust_rps(stack, users: int, seconds: int, workers: int) -> dict:
    from moncheck.drills.locust_proc import LocustRun
    from moncheck.drills.spec import Traffic
    traffic = Traffic(users=users, spawn_rate=users, rate_per_user=0, classes={"ApiUser": 1})
    with LocustRun(stack.service_url, traffic, seconds, workers=workers) as run:
        run.wait(seconds + 30)
        run.stop()
        stats = run.stats()
        if not stats:
            print(f"locust (workers={workers}) wrote no stats:\n{run.log_tail()}", file=sys.stderr)
        return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", type=float, default=60)
    ap.add_argument("--load-seconds", type=int, default=15)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--skip-drills", action="store_true")
    args = ap.parse_args()
    from moncheck.drills import report, runner
    from moncheck.drills.spec import load_drills
    from moncheck.stack import Stack

    drills = load_drills(REPO)
    with Stack(REPO, speed=args.speed) as s:
        if not args.skip_drills:
            t0 = time.monotonic()
            results = runner.run_all(s, drills, progress=None)
            total = time.monotonic() - t0
            print(report.table(results, args.speed))
            print(f"\ntotal wall time of {len(results)} drills: {total:.1f}s")
            print("time-to-fire / theoretical minimum:")
            for r in results:
                for a in r.alerts:
                    ratio = f"{a.ratio:.2f}" if a.ratio else "n/a (did not fire)"
                    print(f"  {a.alert:36} {a.fired_s or 0:6.1f}s / {a.min_fire_s:5.1f}s = {ratio}")
            false = [n for r in results if r.baseline for n in r.unexpected]
            print(f"false alerts in the healthy baseline: {len(false)} {false or ''}")
            ignored = [n for r in results if r.baseline for n in r.ignored]
            print(f"untestable (host) alerts that fired during baselines, ignored: {ignored or 'none'}")
        for workers in (0, 2):
            st = locust_rps(s, args.users, args.load_seconds, workers)
            label = "1 process" if workers == 0 else f"--workers {workers}"
            print(f"locust {label}: {st.get('rps', 0):.0f} requests/s sustained "
                  f"({st.get('requests', 0):.0f} requests, {st.get('failures', 0):.0f} failures, "
                  f"{args.users} users, {args.load_seconds}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
