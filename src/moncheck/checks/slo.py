"""SLO specs and their generated files, and fire-drill coverage: checks that read the repository.

The SLO engine (``moncheck.slo``) and the drills coverage check own their logic; these wrappers
give them a place in the gate, and skip them on loose paths where there is no repository layout.
"""

from __future__ import annotations

from moncheck.checks.base import Context, Skip
from moncheck.findings import Finding


def _need_repo(ctx: Context, what: str) -> None:
    if ctx.inv.mode != "repo":
        raise Skip(f"{what} needs a repository (checked paths are loose files)")


def slo_spec(ctx: Context) -> list[Finding]:
    """``slo/*``: specs valid, queries parse, metrics cataloged, latency thresholds on buckets."""
    _need_repo(ctx, "SLO validation")
    if not ctx.inv.slos:
        raise Skip("no SLO specs in monitoring/slos/")
    from moncheck import slo

    return slo.validate(ctx.inv.root, ctx.inv)


def slo_stale(ctx: Context) -> list[Finding]:
    """``slo/stale``: generated rules, tests, runbooks and dashboard match the specs."""
    _need_repo(ctx, "the SLO drift check")
    if not ctx.inv.slos:
        raise Skip("no SLO specs in monitoring/slos/")
    from moncheck import slo

    return slo.check_drift(ctx.inv.root, ctx.inv)


def drills_coverage(ctx: Context) -> list[Finding]:
    """``drills/coverage``: every alert has a fire drill or an untestable entry with a reason."""
    _need_repo(ctx, "drill coverage")
    from moncheck.checks.drills import check_drill_coverage

    return check_drill_coverage(ctx.inv)


def drills_receivers(ctx: Context) -> list[Finding]:
    """``drills/receivers``: receivers expected by drills exist in alertmanager.yml."""
    _need_repo(ctx, "drill receivers")
    if ctx.inv.alertmanager is None:
        raise Skip("no alertmanager config to check drill receivers against")
    from moncheck.checks.drills import check_drill_receivers

    return check_drill_receivers(ctx.inv)
