"""Schema checks of the smaller artifacts: uptime environments, SLO specs, drills, policy."""

from __future__ import annotations

import re

from moncheck.checks.base import Context, Skip, validate
from moncheck.findings import Finding, error


def schema_uptime(ctx: Context) -> list[Finding]:
    if not ctx.inv.uptime:
        raise Skip("no uptime environments (monitoring/uptime/*.yml)")
    out: list[Finding] = []
    for doc in ctx.inv.uptime:
        shape = validate(ctx, "schema/uptime", "uptime", doc.path, doc.data)
        out += shape
        if doc.error is not None and not shape:  # what the schema cannot say (duplicate names, ...)
            out.append(error("schema/uptime", doc.path, doc.error.line, doc.error.message,
                             "smoke, the report and the local stack read this file with the same parser"))
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
        for data in doc.documents:  # every document of a multi-document OpenSLO file
            out += validate(ctx, "schema/slo", "slo", doc.path, data)
    return out


def schema_drill(ctx: Context) -> list[Finding]:
    """Drill files as the drill runner validates them (``moncheck.drills.spec.load_drills``:
    schema, key combinations, unique names), so the gate rejects what ``moncheck drill`` would."""
    if not ctx.inv.drills:
        raise Skip("no fire drills (monitoring/drills/*.yml)")
    if ctx.inv.mode != "repo":
        out: list[Finding] = []
        for doc in ctx.inv.drills:
            out += validate(ctx, "schema/drill", "drill", doc.path, doc.data)
        return out
    from moncheck.drills.spec import DrillError, load_drills

    try:
        load_drills(ctx.inv.root, ctx.inv)
    except DrillError as e:
        loaded = {d.path for d in ctx.inv.drills}
        found = [_pos(p) for p in e.problems]
        # Files the inventory could not load are reported there (schema/yaml), once.
        return [error("schema/drill", path, line, msg) for path, line, msg in found if path in loaded]
    return []


def schema_policy(ctx: Context) -> list[Finding]:
    doc = ctx.inv.policy
    if doc is None:
        raise Skip("no policies/policy.yml: defaults apply")
    return validate(ctx, "schema/policy", "policy", doc.path, doc.data)


def _pos(problem: str) -> tuple[str, int, str]:
    """``path:line: message`` (the drill and suite loaders' problem format) split up."""
    m = re.match(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<msg>.*)$", problem, re.DOTALL)
    if not m:
        return "", 1, problem
    return m.group("path"), int(m.group("line")), " ".join(m.group("msg").split())


def schema_provisioning(ctx: Context) -> list[Finding]:
    """Grafana provisioning files: data sources and dashboard providers, by their own schemas."""
    if not ctx.inv.provisioning:
        raise Skip("no Grafana provisioning files (monitoring/grafana/provisioning/**/*.yml)")
    out: list[Finding] = []
    for doc in ctx.inv.provisioning:
        data = doc.data if isinstance(doc.data, dict) else {}
        kind = ("grafana-datasources" if "datasources" in data or "deleteDatasources" in data
                else "grafana-dashboards" if "providers" in data
                else "grafana-datasources" if "/datasources/" in f"/{doc.path}" else "grafana-dashboards")
        out += validate(ctx, "schema/provisioning", kind, doc.path, doc.data)
    return out


def schema_expectations(ctx: Context) -> list[Finding]:
    """The daily report's Great Expectations suites, by the report's own loader."""
    if not ctx.inv.expectations:
        raise Skip("no expectation suites (monitoring/expectations/*.yml)")
    from moncheck.report.expectations import SuiteError, parse_suites

    out: list[Finding] = []
    for doc in ctx.inv.expectations:  # the inventory loaded them; the report's parser types them
        try:
            parse_suites(doc.data, doc.path)
        except SuiteError as e:
            path, line, msg = _pos(str(e))
            out.append(error("schema/expectations", path or doc.path, line, msg))
    return out


