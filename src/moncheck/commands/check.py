"""``moncheck check``: the pull-request gate (schemas, policies, promtool, amtool, rule tests)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from moncheck.findings import RENDERERS, Finding, Severity, default_format


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "check",
        help="run the static gate (schemas, policies, promtool, amtool, rule unit tests)",
        description="Check a monitoring repository, or only the given files/directories in it. "
        "Exit 0 clean (warnings allowed), 1 on any error finding, 2 on a usage or "
        "environment error.",
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="files or directories to check (default: the whole repository)")
    p.add_argument("--repo", type=Path, metavar="DIR",
                   help="repository root (default: the git top level of the cwd, else the cwd)")
    p.add_argument("--format", choices=sorted(RENDERERS), default=None,
                   help="output format (default: github under GitHub Actions, else text)")
    p.add_argument("--output", type=Path, metavar="FILE",
                   help="write the findings to FILE instead of stdout")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also list each skipped check with the reason, on stderr")
    p.set_defaults(func=run)


def find_repo(start: Path) -> Path:
    """The git top level containing ``start`` (a ``.git`` dir or file), else ``start``."""
    start = start.resolve()
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return start


class UsageError(Exception):
    pass


def _resolve(args: argparse.Namespace) -> tuple[Path, list[Path]]:
    if args.repo is not None and not args.repo.is_dir():
        raise UsageError(f"--repo {args.repo}: not a directory")
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or directory")
    repo = args.repo.resolve() if args.repo is not None else find_repo(Path.cwd())
    return repo, [p.resolve() for p in args.paths]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def summary(findings: Iterable[Finding], skipped: Iterable[str]) -> str:
    """``moncheck: N errors, M warnings in F files; K checks skipped: a, b`` (F = files with
    findings; the skip reasons are listed by ``-v``)."""
    findings, skipped = list(findings), list(skipped)
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    s = f"moncheck: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    if findings:
        s += f" in {_plural(len({f.path for f in findings}), 'file')}"
    if skipped:
        s += f"; {_plural(len(skipped), 'check')} skipped: {', '.join(skipped)}"
    return s


def _skip(skip: object) -> tuple[str, str]:
    """(check id, reason) of a skipped check; the gate gives pairs."""
    if isinstance(skip, tuple) and len(skip) == 2:
        return str(skip[0]), str(skip[1])
    return str(skip), ""


def exit_status(findings: Iterable[Finding]) -> int:
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def run(args: argparse.Namespace) -> int:
    try:
        repo, paths = _resolve(args)
    except UsageError as e:
        print(f"moncheck: error: {e}", file=sys.stderr)
        return 2
    from moncheck.atomic import write_text
    from moncheck.gate import run_gate

    result = run_gate(repo, paths)
    findings = sorted(result.findings)
    rendered = RENDERERS[args.format or default_format()](findings)
    if args.output is not None:
        write_text(args.output, rendered + "\n" if rendered else "")
    elif rendered:
        print(rendered)
    skipped = [_skip(s) for s in result.skipped]
    if args.verbose:
        for cid, reason in skipped:
            print(f"moncheck: skipped {cid}: {reason}", file=sys.stderr)
    print(summary(findings, [cid for cid, _ in skipped]), file=sys.stderr)
    from moncheck import toolchain

    print(f"moncheck: {toolchain.record(tools=('promtool', 'amtool')).text(('promtool', 'amtool'))}",
          file=sys.stderr)
    return exit_status(findings)
