"""``moncheck report``: the daily health report (Markdown, JSON and PNG charts in a folder).

Targets: ``--prometheus/--alertmanager/--service`` (or ``MONCHECK_*_URL``), else the URLs of
``--env NAME`` (monitoring/uptime/NAME.yml), else a local stack started for the occasion with a
short, bounded warm-up of loopback traffic so there is data to report on.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="build the daily health report from Prometheus and Alertmanager",
        description="Total requests, error ratio, p95 latency, SLO availability, health and every alert "
        "that fired, as Markdown + PNG charts. The data is validated with the Great Expectations suite "
        "in monitoring/expectations/; exit 1 when it fails or there is no data, 2 on a usage error.")
    p.add_argument("--prometheus", metavar="URL", help="Prometheus base URL (or MONCHECK_PROMETHEUS_URL)")
    p.add_argument("--alertmanager", metavar="URL", help="Alertmanager base URL (or MONCHECK_ALERTMANAGER_URL)")
    p.add_argument("--service", metavar="URL", help="service base URL for /health (or MONCHECK_SERVICE_URL)")
    p.add_argument("--env", metavar="NAME", help="take the URLs from monitoring/uptime/NAME.yml")
    p.add_argument("--since", default="24h", metavar="DURATION", help="period to report on (default 24h)")
    p.add_argument("--out", type=Path, default=Path("out/report"), metavar="DIR",
                   help="output folder (default out/report)")
    p.add_argument("--repo", type=Path, metavar="DIR", help="repository root (default: git top level of cwd)")
    p.add_argument("--warmup", type=float, default=20.0, metavar="SECONDS",
                   help="local stack only: seconds of loopback traffic before the report (default 20, max 120)")
    p.set_defaults(func=run)


def _fail(msg: str) -> int:
    print(f"moncheck: error: {msg}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from moncheck.commands.check import find_repo
    from moncheck.report.build import build
    from moncheck.report.expectations import SuiteError
    from moncheck.promapi import ApiError, parse_duration
    from moncheck.smoke.targets import TargetError, resolve

    repo = args.repo.resolve() if args.repo else find_repo(Path.cwd())
    try:
        since_s = parse_duration(args.since)
    except ValueError as e:
        return _fail(f"--since: {e}")
    options = {"prometheus_url": args.prometheus, "alertmanager_url": args.alertmanager,
               "service_url": args.service}
    try:
        target = resolve(repo, args.env, options)
    except TargetError as e:
        return _fail(str(e))
    try:
        if target.prometheus_url:
            result = build(repo, target.prometheus_url, target.alertmanager_url, target.service_url,
                           since_s, args.out, auth=target.auth)
        else:
            result = _with_local_stack(repo, since_s, args)
            if result is None:
                return EXIT_USAGE
    except (ApiError, SuiteError) as e:
        return _fail(str(e))
    return _print(result, args.out)


def _with_local_stack(repo: Path, since_s: float, args: argparse.Namespace):
    from moncheck.report.build import build
    from moncheck.report.traffic import drive

    try:
        from moncheck.stack import Stack, StackError
    except ImportError:
        _fail("no Prometheus given and the local stack is not available: pass --prometheus URL or --env NAME")
        return None
    print("moncheck report: no target given; starting the local stack "
          f"and sending {min(args.warmup, 120):g}s of loopback traffic", file=sys.stderr)
    try:
        with Stack(repo, speed=float(os.environ.get("MONCHECK_SPEED", "30"))) as stack:
            if hasattr(stack, "wait_targets_up"):
                stack.wait_targets_up()
            drive(stack.service_url, args.warmup)
            return build(repo, stack.prometheus_url, stack.alertmanager_url, stack.service_url, since_s, args.out)
    except StackError as e:
        _fail(f"local stack: {e}")
        return None


def _print(result, out: Path) -> int:
    d = result.data
    for o in result.failed:
        print(f"moncheck report: FAILED expectation: {o.text()}", file=sys.stderr)
    if not d.has_data:
        print(f"moncheck report: NO DATA: {d.notes[0]}", file=sys.stderr)
    status = "OK" if result.ok else "FAILED"
    print(f"moncheck report: {status}: {out / 'report.md'} ({len(result.files)} files, "
          f"{len(result.outcomes)} expectations, {len(result.failed)} failed, built in {result.seconds:.1f}s)")
    return 0 if result.ok else 1
