"""``moncheck slo``: validate SLO specs, generate rules/tests/runbooks/dashboard, report budgets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from moncheck.findings import RENDERERS, Finding, Severity, default_format


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("slo", help="SLOs as code: validate, generate, report",
                              description="SLO specs (Sloth prometheus/v1, OpenSLO v1) in "
                              "monitoring/slos/ -> Sloth-compatible rules, promtool tests, "
                              "runbooks and a dashboard.")
    sub = p.add_subparsers(dest="slo_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: _usage(p))

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--repo", type=Path, metavar="DIR",
                        help="repository root (default: the git top level of the cwd)")

    g = sub.add_parser("generate", help="write the generated files (or --check them)",
                       description="Generate monitoring/prometheus/rules/slo/*.yml, "
                       "tests/rules/slo/*.test.yml, the SLO runbooks and dashboard. Exit 1 on "
                       "invalid specs or, with --check, stale files.")
    common(g)
    g.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 listing generated files that are stale")
    g.add_argument("--format", choices=sorted(RENDERERS), default=None)
    g.set_defaults(func=run_generate)

    v = sub.add_parser("validate", help="validate the SLO specs only")
    common(v)
    v.add_argument("--format", choices=sorted(RENDERERS), default=None)
    v.set_defaults(func=run_validate)

    r = sub.add_parser("report", help="attainment and remaining error budget per SLO",
                       description="Evaluate each SLO over its period on a live Prometheus. "
                       "Without --prometheus, start the local stack (fresh: expect no data).")
    common(r)
    r.add_argument("--prometheus", metavar="URL", help="Prometheus base URL, e.g. "
                   "http://127.0.0.1:9090 (or MONCHECK_PROMETHEUS_URL)")
    r.add_argument("--env", metavar="NAME", help="take Prometheus' URL and credentials from "
                   "monitoring/uptime/NAME.yml")
    r.set_defaults(func=run_report)


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _repo(args: argparse.Namespace) -> Path:
    from moncheck.commands.check import find_repo

    if args.repo is not None:
        if not args.repo.is_dir():
            raise SystemExit(_err(f"--repo {args.repo}: not a directory"))
        return args.repo.resolve()
    return find_repo(Path.cwd())


def _err(msg: str) -> int:
    print(f"moncheck: error: {msg}", file=sys.stderr)
    return 2


def _print(findings: list[Finding], fmt: str | None) -> None:
    if findings:
        print(RENDERERS[fmt or default_format()](sorted(findings)))


def _errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def run_validate(args: argparse.Namespace) -> int:
    from moncheck import slo

    findings = slo.validate(_repo(args))
    _print(findings, args.format)
    return 1 if _errors(findings) else 0


def run_generate(args: argparse.Namespace) -> int:
    from moncheck import slo

    repo = _repo(args)
    plan = slo.plan(repo)
    _print(plan.findings, args.format)
    if not plan.ok:
        print("moncheck: SLO specs are invalid; nothing generated", file=sys.stderr)
        return 1
    if args.check:
        stale = slo.stale(repo, plan)
        for rel, why in stale:
            print(f"{rel.as_posix()}: stale: {why}")
        if stale:
            print("moncheck: run `moncheck slo generate` and commit the result", file=sys.stderr)
        return 1 if stale else 0
    changed = slo.write(repo, plan)
    for rel in changed:
        print(f"{'removed' if rel not in plan.files else 'wrote'} {rel.as_posix()}")
    print(f"moncheck: {sum(len(s.slos) for s in plan.specs)} SLOs, {len(plan.files)} generated "
          f"files, {len(changed)} changed", file=sys.stderr)
    return 0


def run_report(args: argparse.Namespace) -> int:
    from moncheck import slo
    from moncheck.promapi import ApiError, Unreachable
    from moncheck.slo import report

    repo = _repo(args)
    specs, findings = slo.load_specs(repo)
    if _errors(findings):
        _print(findings, None)
        return 1
    slos = [s for spec in specs for s in spec.slos]
    if not slos:
        return _err(f"no SLO specs in {repo / 'monitoring/slos'}")
    from moncheck.smoke.targets import TargetError, resolve

    try:
        target = resolve(repo, getattr(args, "env", None), {"prometheus_url": args.prometheus})
    except TargetError as e:
        return _err(str(e))
    try:
        if target.prometheus_url:
            url, auth = target.prometheus_url, target.auth_of("prometheus")
            rows = [report.measure(s, url, auth=auth) for s in slos]
            print(report.render(rows, url))
            return 0
        try:
            from moncheck.stack import Stack, StackError
        except ImportError:
            return _err("no local stack available: pass --prometheus URL")
        try:
            with Stack(repo) as stack:
                stack.wait_targets_up()
                rows = [report.measure(s, stack.prometheus_url) for s in slos]
                print(report.render(rows, f"{stack.prometheus_url} (local stack)"))
        except StackError as e:
            return _err(f"local stack: {e} (or pass --prometheus URL)")
        return 0
    except Unreachable as e:
        return _err(f"cannot reach Prometheus at {e.base} ({e.reason})")
    except ApiError as e:
        return _err(str(e))
