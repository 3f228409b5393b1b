"""``moncheck drill``: fire drills, each on its own local stack; write drill-report.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_SPEED = 60.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "drill", help="fire drills: load + faults on local stacks, assert alerts and notifications",
        description="Run the fire drills of monitoring/drills/ (all, or the NAMEs given), each on its "
        "own local stack (reference service, Prometheus, Alertmanager, sink) with time compression: "
        "Locust traffic, a fault, then the expected alerts must fire, reach their receivers with "
        "readable notifications and resolve, each delay within its floor and bound. A full run also "
        "evaluates every dashboard panel under traffic. Prints a table of delays against floors and "
        "writes drill-report.json. Exit 0 when every drill passes, 1 when one fails, 2 on a usage "
        "or environment error.")
    p.add_argument("names", nargs="*", metavar="NAME", help="drills to run (default: all, plus the dashboards)")
    p.add_argument("--repo", type=Path, metavar="DIR", default=None,
                   help="repository root (default: the git top level of the cwd, else the cwd)")
    p.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                   help=f"time compression factor (default {DEFAULT_SPEED:g})")
    p.add_argument("--jobs", "-j", type=int, default=0,
                   help="stacks running at once (default: from cores and available memory)")
    p.add_argument("--workers", type=int, default=0, help="distributed Locust with N worker processes")
    p.add_argument("--allow-remote", action="store_true", help="allow non-loopback load targets")
    p.add_argument("--report", default="drill-report.json", help="JSON report path")
    p.add_argument("--no-dashboards", action="store_true", help="skip the dashboard panel check of a full run")
    p.set_defaults(func=run)


def _err(msg: str) -> int:
    print(f"moncheck: error: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from moncheck.commands.up import repo_arg
    from moncheck.drills import parallel, report
    from moncheck.drills.locust_proc import LoadError
    from moncheck.drills.spec import DrillError, load_drills
    from moncheck.stack import StackError, missing_binaries

    repo = repo_arg(args)
    if args.speed <= 0 or args.workers < 0 or args.jobs < 0:
        return _err("--speed must be > 0, --workers and --jobs >= 0")
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
    missing = missing_binaries()
    if missing:
        return _err(f"missing binaries: {', '.join(missing)}")
    jobs = args.jobs or parallel.default_jobs()
    try:
        run = parallel.run_drills(repo, drills, args.speed, jobs=jobs, workers=args.workers,
                                  allow_remote=args.allow_remote,
                                  panels=not args.names and not args.no_dashboards)
    except (StackError, LoadError) as e:
        return _err(str(e))
    from moncheck import toolchain

    used = toolchain.record(tools=("prometheus", "alertmanager"))
    print(report.table(run.results, args.speed, wall_s=run.wall_s, jobs=jobs))
    for f in run.panels:
        print(f.text())
    for problem in run.errors:
        print(f"moncheck: error: {problem}", file=sys.stderr)
    print(f"drills ran on {used.text(('prometheus', 'alertmanager'))}")
    report.write_json(Path(args.report), run.results, args.speed,
                      {"jobs": jobs, "wall_s": run.wall_s, "toolchain": used.as_dict(),
                       "dashboard_findings": [f.text() for f in run.panels], "stack_errors": run.errors})
    print(f"report: {args.report}")
    if run.errors:
        return 2
    return 0 if all(r.ok for r in run.results) and not run.panels else 1
