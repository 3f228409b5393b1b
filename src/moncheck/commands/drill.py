"""``moncheck drill``: run the fire drills on a fresh local stack; write drill-report.json."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_SPEED = 60.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("drill", help="fire drills: load + faults on the local stack, assert alerts")
    p.add_argument("names", nargs="*", metavar="NAME", help="drills to run (default: all)")
    p.add_argument("--repo", default=".", help="repository root (default: .)")
    p.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                   help=f"time compression factor (default {DEFAULT_SPEED:g})")
    p.add_argument("--workers", type=int, default=0, help="distributed Locust with N worker processes")
    p.add_argument("--allow-remote", action="store_true", help="allow non-loopback load targets")
    p.add_argument("--report", default="drill-report.json", help="JSON report path")
    p.add_argument("--no-dashboards", action="store_true", help="skip the dashboard panel check")
    p.set_defaults(func=run)


def _err(msg: str) -> int:
    print(f"moncheck: error: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from moncheck.drills import dashboards, report, runner
    from moncheck.drills.locust_proc import LoadError
    from moncheck.drills.spec import DrillError, load_drills
    from moncheck.stack import Stack, StackError

    repo = Path(args.repo)
    if args.speed <= 0 or args.workers < 0:
        return _err("--speed must be > 0 and --workers >= 0")
    try:
        drills = load_drills(repo)
    except DrillError as e:
        print("\n".join(e.problems), file=sys.stderr)
        return 2
    if args.names:
        unknown = sorted(set(args.names) - {d.name for d in drills})
        if unknown:
            return _err(f"unknown drill(s): {', '.join(unknown)}; known: {', '.join(d.name for d in drills)}")
        drills = [d for d in drills if d.name in args.names]
    if not drills:
        return _err(f"no drills in {repo / 'monitoring/drills'}")
    try:
        with Stack(repo, speed=args.speed) as s:
            started = time.monotonic()
            results = runner.run_all(s, drills, workers=args.workers, allow_remote=args.allow_remote)
            panels: list[str] = []
            if not args.no_dashboards:
                # After the drills (their errors, latencies and faults are in the panels' windows),
                # under a few seconds of mixed traffic.
                scrape = runner.stack_timings(s).scrape_ms
                panels = runner.with_mixed_traffic(
                    s, lambda: dashboards.check_live(s, repo, scrape, time.monotonic() - started))
    except StackError as e:
        return _err(str(e))
    except LoadError as e:
        return _err(str(e))
    from moncheck import toolchain

    used = toolchain.record(tools=("prometheus", "alertmanager"))
    print(report.table(results, args.speed))
    for p in panels:
        print(p)
    print(f"drills ran on {used.text(('prometheus', 'alertmanager'))}")
    report.write_json(Path(args.report), results, args.speed,
                      {"dashboard_failures": panels, "toolchain": used.as_dict()})
    print(f"report: {args.report}")
    return 0 if all(r.ok for r in results) and not panels else 1
