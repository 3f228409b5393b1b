"""Schema checks of the smaller artifacts: uptime environments, SLO specs, drills, policy."""

from __future__ import annotations

from moncheck.checks.base import Context, Skip, validate
from moncheck.findings import Finding, error


def schema_uptime(ctx: Context) -> list[Finding]:
    if not ctx.inv.uptime:
        raise Skip("no uptime environments (monitoring/uptime/*.yml)")
    out: list[Finding] = []
    for doc in ctx.inv.uptime:
        out += validate(ctx, "schema/uptime", "uptime", doc.path, doc.data)
        stem = doc.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        env = doc.data.get("environment") if isinstance(doc.data, dict) else None
        if isinstance(env, str) and env != stem:
            out.append(error("schema/uptime", doc.path, doc.data.line_of("environment"),
                             f"environment {env!r} in a file named {stem}.yml", "one file per environment, named after it"))
    if ctx.inv.mode == "repo":
        envs = {doc.path.rsplit("/", 1)[-1].rsplit(".", 1)[0] for doc in ctx.inv.uptime}
        for env in ("local", "staging", "production"):
            if env not in envs:
                out.append(error("schema/uptime", "monitoring/uptime", 1, f"no uptime checks for environment {env!r}",
                                 f"add monitoring/uptime/{env}.yml"))
    return out


def schema_slo(ctx: Context) -> list[Finding]:
    if not ctx.inv.slos:
        raise Skip("no SLO specs (monitoring/slos/*.yml)")
    out: list[Finding] = []
    for doc in ctx.inv.slos:
        out += validate(ctx, "schema/slo", "slo", doc.path, doc.data)
    return out


def schema_drill(ctx: Context) -> list[Finding]:
    if not ctx.inv.drills:
        raise Skip("no fire drills (monitoring/drills/*.yml)")
    out: list[Finding] = []
    for doc in ctx.inv.drills:
        out += validate(ctx, "schema/drill", "drill", doc.path, doc.data)
    return out


def schema_policy(ctx: Context) -> list[Finding]:
    doc = ctx.inv.policy
    if doc is None:
        raise Skip("no policies/policy.yml: defaults apply")
    return validate(ctx, "schema/policy", "policy", doc.path, doc.data)
