"""``moncheck check``: the pull-request gate (schemas, policies, promtool, amtool, rule tests)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from moncheck.findings import RENDERERS, Finding, Report, Severity, default_format


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check",
        help="run the static gate (schemas, policies, promtool, amtool, rule unit tests)",
        description="Check a monitoring repository (as its moncheck.yml describes it), or only the "
        "given files/directories in it. Exit 0 clean (warnings allowed), 1 on any error finding, "
        "2 on a usage or environment error (nothing to check; promtool/amtool missing with "
        "--strict or CI set).",
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="files or directories to check (default: the whole repository); inside a "
                   "configured repository they are checked with the repository as context")
    p.add_argument("--repo", type=Path, metavar="DIR",
                   help="repository root (default: the git top level of the cwd, else the cwd)")
    p.add_argument("--format", choices=sorted(RENDERERS), default=None,
                   help="output format (default: github under GitHub Actions, else text)")
    p.add_argument("--output", type=Path, metavar="FILE",
                   help="write the findings to FILE instead of stdout")
    p.add_argument("--base", metavar="REF",
                   help="report only findings on rules and lines changed since git REF (its merge "
                   "base with HEAD), checking the whole repository as context")
    p.add_argument("--baseline", type=Path, metavar="FILE",
                   help="drop findings recorded in FILE (by --write-baseline); only new ones count")
    p.add_argument("--write-baseline", type=Path, metavar="FILE",
                   help="record the current findings in FILE and exit 0 (adopt a legacy repository)")
    p.add_argument("--policy", type=Path, metavar="FILE",
                   help="use this policy file (settings, opt-in organisation checks, suppressions) "
                   "instead of the repository's; also for loose files")
    p.add_argument("--strict", action="store_true",
                   help="a skipped check the repository is configured for, or a missing promtool/amtool, "
                   "is an error (the default when the CI environment variable is set)")
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
    # `mutate` shares this resolution but has no --policy/--baseline options.
    policy = getattr(args, "policy", None)
    if policy is not None and not policy.is_file():
        raise UsageError(f"--policy {policy}: no such file")
    if missing:
        raise UsageError(f"{missing[0]}: no such file or directory")
    output = getattr(args, "output", None)
    # Before any work: a gate run takes seconds, and its result would be lost.
    if output is not None and output.is_dir():
        raise UsageError(f"--output {output}: is a directory")
    if getattr(args, "baseline", None) is not None and getattr(args, "write_baseline", None) is not None:
        raise UsageError("--baseline and --write-baseline exclude each other")
    repo = args.repo.resolve() if args.repo is not None else find_repo(Path.cwd())
    return repo, [p.resolve() for p in args.paths]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def not_applicable(reason: str) -> bool:
    """A skip because the repository has nothing of the check's kind (no catalog, no SLO specs,
    loose files): counted in the summary, listed by ``-v``; other skips are named."""
    return reason.startswith("no ") or "needs a repository" in reason


def summary(findings: Iterable[Finding], skipped: Iterable[str], *, opt_in_off: int = 0, suppressed: int = 0,
            baselined: int = 0, inapplicable: int = 0) -> str:
    """``moncheck: N errors, M warnings in F files; K checks skipped: a, b`` (F = files with
    findings; the skip reasons are listed by ``-v``)."""
    findings, skipped = list(findings), list(skipped)
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    s = f"moncheck: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    if findings:
        s += f" in {_plural(len({f.path for f in findings}), 'file')}"
    if suppressed or baselined:
        s += f" ({suppressed} suppressed, {baselined} in the baseline)"
    if skipped:
        s += f"; {_plural(len(skipped), 'check')} skipped: {', '.join(skipped)}"
    if inapplicable:
        s += f"; {inapplicable} not applicable (-v says why)"
    if opt_in_off:
        s += f"; {_plural(opt_in_off, 'opt-in policy check')} off"
    return s


def exit_status(findings: Iterable[Finding]) -> int:
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def strict_mode(args: argparse.Namespace) -> str | None:
    """Why checks that cannot run are errors (``--strict`` or ``CI`` set), or None."""
    from moncheck.failclosed import strict_requested

    if args.strict:
        return "--strict"
    return "CI is set" if strict_requested(False) else None


def _fail(msg: str) -> int:
    print(f"moncheck: error: {msg}", file=sys.stderr)
    return 2


def _emit(args: argparse.Namespace, fmt: str, report: Report) -> int | None:
    """Render and write the findings; 2 when ``--output`` cannot be written."""
    from moncheck.atomic import write_text
    from moncheck.findings import github_split, render_github, render_text, summary_markdown

    if fmt == "github":
        shown, rest = github_split(report.findings)
        rendered = render_github(shown)
        if rest:
            table = summary_markdown(rest, f"moncheck: {len(rest)} more findings (past GitHub's 10 annotations per level)")
            step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
            if step_summary:
                with open(step_summary, "a", encoding="utf-8") as fh:
                    fh.write(table)
                rendered += f"\n::notice title=moncheck::{len(rest)} more findings are listed in the job summary"
            else:
                rendered += "\n" + render_text(rest)
    else:
        rendered = RENDERERS[fmt](report)
    if args.output is not None:
        try:
            write_text(args.output, rendered + "\n" if rendered else "")
        except OSError as e:
            print(f"moncheck: error: --output {args.output}: {e.strerror or e}", file=sys.stderr)
            return 2
    elif rendered:
        print(rendered)
    return None


def run(args: argparse.Namespace) -> int:
    from moncheck.config import ConfigError
    from moncheck.diffmode import DiffError
    from moncheck.gate import OPT_IN_REASON, run_gate
    from moncheck.suppress import BaselineError, read_baseline, write_baseline

    try:
        repo, paths = _resolve(args)
        baseline = read_baseline(args.baseline) if args.baseline is not None else None
        result = run_gate(repo, paths, base=args.base, baseline=baseline,
                          policy=args.policy.resolve() if args.policy is not None else None,
                          strict=strict_mode(args) is not None)
    except (UsageError, BaselineError, DiffError) as e:
        return _fail(str(e))
    except ConfigError as e:
        print(f"{e.path}:{e.line}: error: {e.message}", file=sys.stderr)
        return 2
    inv = result.inventory
    if not result.checked and not (inv and inv.load_findings):
        where = ", ".join(str(p) for p in args.paths) or str(repo)
        hint = "run `moncheck init` to describe where this repository keeps its monitoring" if not args.paths else \
            "pass rule files, promtool tests, Alertmanager or Prometheus configs, dashboards or SLO specs"
        return _fail(f"nothing to check in {where}: no monitoring artifacts found; {hint}")
    findings = sorted(result.findings)
    if args.write_baseline is not None:
        assert inv is not None
        n = write_baseline(args.write_baseline, findings, inv)
        print(f"moncheck: wrote {_plural(n, 'finding')} to {args.write_baseline}; check with --baseline {args.write_baseline}",
              file=sys.stderr)
        return 0
    skipped = list(result.skipped)
    real_skips = [(c, why) for c, why in skipped if why != OPT_IN_REASON and not not_applicable(why)]
    inapplicable = sum(why != OPT_IN_REASON and not_applicable(why) for _, why in skipped)
    fmt = args.format or default_format()
    if (rc := _emit(args, fmt, Report(findings, skipped, len(result.suppressed), len(result.baselined)))) is not None:
        return rc
    if args.verbose:
        for cid, reason in skipped:
            print(f"moncheck: skipped {cid}: {reason}", file=sys.stderr)
    print(summary(findings, [c for c, _ in real_skips], opt_in_off=len(skipped) - len(real_skips) - inapplicable,
                  suppressed=len(result.suppressed), baselined=len(result.baselined), inapplicable=inapplicable),
          file=sys.stderr)
    from moncheck import toolchain

    print(f"moncheck: {toolchain.record(tools=('promtool', 'amtool')).text(('promtool', 'amtool'))}",
          file=sys.stderr)
    why = strict_mode(args)
    if why and result.missing_tools:
        reasons = {c: r for c, r in skipped}
        first = result.missing_tools[0]
        return _fail(f"{', '.join(result.missing_tools)} could not run ({why}): {reasons.get(first, 'tool missing')}")
    return exit_status(findings)
