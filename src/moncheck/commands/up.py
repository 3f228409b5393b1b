"""``moncheck up``: start the local stack, print its URLs, run until interrupted."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_SPEED = 1.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="run the local stack (service, Prometheus, Alertmanager, sink)")
    p.add_argument("--repo", default=".", help="repository root (default: .)")
    p.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                   help="time compression factor applied to rules and intervals (default 1: real time)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moncheck.stack import Stack, StackError

    if args.speed <= 0:
        print("moncheck: error: --speed must be > 0", file=sys.stderr)
        return 2
    try:
        with Stack(Path(args.repo), speed=args.speed) as s:
            for name, url in s.urls().items():
                print(f"{name:14} {url}")
            for job, reason in s.dropped_jobs.items():
                print(f"(job {job} dropped: {reason})")
            print(f"speed {args.speed:g}x; Ctrl-C to stop", flush=True)
            while True:
                s.check_alive()
                time.sleep(1)
    except StackError as e:
        print(f"moncheck: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped")
        return 0
