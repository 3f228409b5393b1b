"""``moncheck`` command line: parses arguments, calls the library, maps results to exit status.

Exit status (a contract): 0 clean, 1 findings or failed assertions, 2 usage or environment error
(one line on stderr, never a traceback unless ``MONCHECK_DEBUG=1``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from moncheck import __version__
from moncheck.commands import COMMANDS

EXIT_USAGE = 2


def _load_command(name: str):
    """The command module, or None while it is not written yet (only that module missing)."""
    module = f"moncheck.commands.{name}"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moncheck",
        description="Prove monitoring-as-code right: rules, routing, dashboards, SLOs, drills.",
    )
    parser.add_argument("--version", action="version", version=f"moncheck {__version__}")
    parser.add_argument("--toolchain", metavar="NAME",
                        help="promtool/amtool/Prometheus/Alertmanager toolchain to run "
                        "(default: MONCHECK_TOOLCHAIN, else 3; see `python -m moncheck.toolchain show`)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod = _load_command(name)
        if mod is not None:
            mod.register(sub)
    return parser


def _fail(message: str) -> int:
    print(f"moncheck: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    from moncheck import yamlpos
    from moncheck.tools import ToolError, ToolMissing

    debug = os.environ.get("MONCHECK_DEBUG") == "1"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        from moncheck import toolchain

        if args.toolchain:
            os.environ["MONCHECK_TOOLCHAIN"] = args.toolchain  # child processes use it too
        toolchain.selected()  # an unknown name is a usage error before any work
        return int(args.func(args))
    except yamlpos.LoadError as e:
        print(f"{e.path}:{e.line}: error: {e.message}", file=sys.stderr)
        return EXIT_USAGE
    except (ToolMissing, ToolError) as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        print("moncheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `moncheck check | head`: the reader left; not an error worth a message.
        sys.stderr.close()
        return 1
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            traceback.print_exc()
        print(f"moncheck: internal error: {type(e).__name__}: {e}"
              + ("" if debug else " (set MONCHECK_DEBUG=1 for a traceback)"), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
