"""``moncheck mutate``: how strong are the promtool tests? Mutate every rule, run the tests."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from moncheck.findings import RENDERERS, default_format


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "mutate",
        help="mutation testing of alert and recording rules against their promtool tests",
        description="Change every rule in small ways (thresholds, comparisons, ranges, for, "
        "operators, matchers, grouping, functions, offsets) and run the promtool tests that "
        "load it: a change no test notices survives. Exit 0 when every rule meets the policy's "
        "minimum score (policies/policy.yml, mutate:), 1 when not, 2 on a usage or environment "
        "error.",
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="rule files and promtool test files, or folders of them "
                   "(default: the whole repository)")
    p.add_argument("--repo", type=Path, metavar="DIR",
                   help="repository root (default: the git top level of the cwd, else the cwd)")
    p.add_argument("--format", choices=sorted(RENDERERS), default=None,
                   help="output format (default: github under GitHub Actions, else text)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="promtool processes at once (default: the number of cores)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="timeout of one promtool run (default: the policy's mutate.timeout, else 60)")
    p.add_argument("--policy", type=Path, metavar="FILE",
                   help="policy file with a mutate: section (default: the repository's "
                   "policies/policy.yml; none for loose paths)")
    p.add_argument("--one-by-one", action="store_true",
                   help="judge every mutant in promtool runs of its own instead of many at once "
                   "through renamed copies (slower; the same verdicts)")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moncheck.commands.check import UsageError, _resolve
    from moncheck.gate import load
    from moncheck.mutate import report
    from moncheck.mutate.policy import from_data
    from moncheck.mutate.runner import DEFAULT_TIMEOUT_S, Runner
    from moncheck.stack.signals import sigterm_as_ctrl_c

    if args.jobs is not None and args.jobs < 1:
        print("moncheck: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    if args.timeout is not None and args.timeout <= 0:
        print("moncheck: error: --timeout must be positive", file=sys.stderr)
        return 2
    try:
        repo, paths = _resolve(args)
    except UsageError as e:
        print(f"moncheck: error: {e}", file=sys.stderr)
        return 2
    from moncheck.config import ConfigError

    try:
        inv, focus = load(repo, paths)
    except ConfigError as e:
        print(f"{e.path}:{e.line}: error: {e.message}", file=sys.stderr)
        return 2
    if focus is not None:
        # Paths given inside a configured repository: the repository is loaded as context, but
        # only the named rule files are mutated and only the named test files run.
        inv.rule_files = [rf for rf in inv.rule_files if rf.path in focus]
        inv.rule_tests = [t for t in inv.rule_tests if t.path in focus]
    if inv.load_findings:
        for f in sorted(inv.load_findings):
            print(f.text(), file=sys.stderr)
        return 2
    if not inv.rule_files:
        print("moncheck: error: no rule files to mutate", file=sys.stderr)
        return 2
    if not inv.rule_tests:
        print("moncheck: error: no promtool test files (pass the test files that load these rules)",
              file=sys.stderr)
        return 2
    if args.policy is not None:
        from moncheck import yamlpos
        from moncheck.tools import display_path

        if not args.policy.is_file():
            print(f"moncheck: error: --policy {args.policy}: no such file", file=sys.stderr)
            return 2
        shown = display_path(args.policy, repo)
        pol = from_data(yamlpos.load(args.policy, shown), shown)
    else:
        pol = from_data(inv.policy.data if inv.policy else None, inv.policy.path if inv.policy else None)
    jobs = args.jobs or os.cpu_count() or 1
    timeout = args.timeout or pol.timeout_s or DEFAULT_TIMEOUT_S
    progress = (lambda msg: print(f"moncheck mutate: {msg}", file=sys.stderr)) if args.verbose else None
    runner = Runner(jobs=jobs, timeout=timeout, progress=progress, renaming=not args.one_by_one)
    # SIGTERM takes the Ctrl-C path: running promtools are killed, the work dir removed.
    from moncheck.mutate import hints

    hints_path = hints.path_for(repo)
    known = hints.load(hints_path)
    with sigterm_as_ctrl_c():
        result = runner.run([(rf, inv.abspath(rf.path)) for rf in inv.rule_files],
                            [(inv.abspath(t.path), t.path) for t in inv.rule_tests],
                            hints=known)
    hints.save(hints_path, {**known, **result.hints})
    rep = report.evaluate(result, pol, jobs)
    fmt = args.format or default_format()
    if fmt == "json":
        out = report.render_json(rep)
    elif fmt == "github":
        out = RENDERERS["github"](sorted(rep.findings))
    else:
        out = report.render_text(rep)
    if args.output is not None:
        from moncheck.atomic import write_text

        write_text(args.output, out + "\n" if out else "")
    elif out:
        print(out)
    if fmt != "text":
        print(report.summary(rep), file=sys.stderr)
    return rep.exit_status
