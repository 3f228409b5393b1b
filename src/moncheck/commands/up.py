"""``moncheck up``: start the local stack, print its URLs, run until interrupted."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_SPEED = 1.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "up", help="run the local stack (service, Prometheus, Alertmanager, sink)",
        description="Start the reference service, Prometheus, Alertmanager, the notification sink "
        "and the node exporter on loopback with free ports, configured from the repository's "
        "monitoring/ (time-compressed with --speed), print their URLs and run until Ctrl-C or "
        "SIGTERM; then stop every process and remove the temporary directory. Leftovers of a "
        "killed earlier run are removed first. Exit 0 when stopped, 2 when a component cannot "
        "start or dies.")
    p.add_argument("--repo", type=Path, metavar="DIR", default=None,
                   help="repository root (default: the git top level of the cwd, else the cwd)")
    p.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                   help="time compression factor applied to rules and intervals (default 1: real time)")
    p.set_defaults(func=run)


def repo_arg(args: argparse.Namespace) -> Path:
    """``--repo`` or the git top level of the cwd; SystemExit(2) with one line when not a directory."""
    from moncheck.commands.check import find_repo
    if args.repo is None:
        return find_repo(Path.cwd())
    if not args.repo.is_dir():
        print(f"moncheck: error: --repo {args.repo}: not a directory", file=sys.stderr)
        raise SystemExit(2)
    return Path(args.repo).resolve()


def run(args: argparse.Namespace) -> int:
    from moncheck.stack import Stack, StackError

    if args.speed <= 0:
        print("moncheck: error: --speed must be > 0", file=sys.stderr)
        return 2
    repo = repo_arg(args)
    try:
        with Stack(repo, speed=args.speed) as s:
            for line in s.reaped:
                print(line, file=sys.stderr)
            for name, url in s.urls().items():
                print(f"{name:14} {url}")
            for job, reason in s.dropped_jobs.items():
                print(f"(job {job} dropped: {reason})")
            print(f"{'directory':14} {s.dir}")
            print(f"speed {args.speed:g}x; Ctrl-C to stop", flush=True)
            while True:
                s.check_alive()
                time.sleep(1)
    except StackError as e:
        print(f"moncheck: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 0
