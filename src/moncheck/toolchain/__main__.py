"""``python -m moncheck.toolchain fetch|show``: set-up of the fetched toolchains, and a listing."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from moncheck import toolchain as tc
from moncheck.toolchain import fetch as fetch_mod


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m moncheck.toolchain")
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch the pinned toolchains that are not installed yet")
    f.add_argument("names", nargs="*", help="toolchains (default: every one with a fetch section)")
    f.add_argument("--project", type=Path, default=Path.cwd(), help="project folder (default: cwd)")
    sub.add_parser("show", help="print each toolchain's binaries and versions")
    args = p.parse_args(argv)
    try:
        if args.cmd == "show":
            for name in tc.names():
                print(tc.record(name).text())
            return 0
        fetchable = [n for n in tc.names() if "fetch" in tc.spec()["toolchains"][n]]
        wanted = args.names or fetchable
        if not args.names and os.environ.get("MONCHECK_TOOLCHAIN") and os.environ["MONCHECK_TOOLCHAIN"] not in fetchable:
            print(f"moncheck setup: MONCHECK_TOOLCHAIN={os.environ['MONCHECK_TOOLCHAIN']}: "
                  "not fetching the other toolchains", file=sys.stderr)
            return 0
        root = tc.home(create_in=args.project.resolve())
        for name in wanted:
            if name not in fetchable:
                raise fetch_mod.FetchError(f"toolchain {name!r} is not fetched (one of: {', '.join(fetchable)})")
            print(fetch_mod.ensure(name, root), file=sys.stderr)
    except (fetch_mod.FetchError, tc.ToolMissing) as e:
        print(f"moncheck setup: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("moncheck setup: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
