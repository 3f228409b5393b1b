"""Checks of errors, traces, logs and browser budgets (``monitoring/{errors,tracing,logging,lighthouse}/``).

One function per check id. Each reads the typed records of ``moncheck.telemetry.spec`` built from
the inventory's located documents, so every finding names the file and line of the value at fault.
"""

from __future__ import annotations

import re
from typing import Any

from moncheck.checks.base import Context, Skip, validate
from moncheck.findings import Finding, error
from moncheck.inventory import YamlDoc
from moncheck.promql import analyze, strip_grafana_vars
from moncheck.telemetry.spec import (
    ErrorsPolicy,
    LoggingPolicy,
    TracingPolicy,
    parse_errors,
    parse_logging,
    parse_tracing,
)
from moncheck.yamlpos import line_of

# Span attributes that identify a person or carry credentials: never required on every span
# (they would put personal data in every trace, and are unbounded).
PII_ATTRIBUTES = frozenset({"enduser.id", "enduser.role", "user.id", "user.email", "user.name", "client.address",
                            "http.request.header.authorization", "http.request.header.cookie"})
# web-vitals' "good" thresholds (ms, CLS unitless): a budget looser than these lets a page the
# field data would rate "needs improvement" pass the lab check.
GOOD_THRESHOLDS = {"largest-contentful-paint": 2500.0, "cumulative-layout-shift": 0.1,
                   "first-contentful-paint": 1800.0, "server-response-time": 800.0}
_HEX32 = "^[0-9a-f]{32}$"
_HEX16 = "^[0-9a-f]{16}$"


def _errors(ctx: Context) -> ErrorsPolicy:
    if ctx.inv.errors is None:
        raise Skip("no error-tracking policy (monitoring/errors/errors.yml)")
    return parse_errors(ctx.inv.errors.path, ctx.inv.errors.data)


def _tracing(ctx: Context) -> TracingPolicy:
    if ctx.inv.tracing is None:
        raise Skip("no tracing policy (monitoring/tracing/tracing.yml)")
    return parse_tracing(ctx.inv.tracing.path, ctx.inv.tracing.data)


def _logging(ctx: Context) -> LoggingPolicy:
    if ctx.inv.logging is None:
        raise Skip("no logging policy (monitoring/logging/logging.yml)")
    return parse_logging(ctx.inv.logging.path, ctx.inv.logging.data)


def _schema(ctx: Context, check_id: str, kind: str, doc: YamlDoc | None, what: str) -> list[Finding]:
    if doc is None:
        raise Skip(f"no {what}")
    return validate(ctx, check_id, kind, doc.path, doc.data)


def schema_errors(ctx: Context) -> list[Finding]:
    return _schema(ctx, "schema/errors", "errors", ctx.inv.errors, "monitoring/errors/errors.yml")


def schema_tracing(ctx: Context) -> list[Finding]:
    return _schema(ctx, "schema/tracing", "tracing", ctx.inv.tracing, "monitoring/tracing/tracing.yml")


def schema_logging(ctx: Context) -> list[Finding]:
    return _schema(ctx, "schema/logging", "logging", ctx.inv.logging, "monitoring/logging/logging.yml")


def schema_lighthouse(ctx: Context) -> list[Finding]:
    return _schema(ctx, "schema/lighthouse", "lighthouse", ctx.inv.lighthouse, "monitoring/lighthouse/lighthouserc.json")


# ----------------------------------------------------------------------------- errors


def errors_filter(ctx: Context) -> list[Finding]:
    """Filters name declared environments, never drop production, and leave somewhere to send."""
    pol = _errors(ctx)
    out: list[Finding] = []
    cid = "errors/filter"
    for f in pol.filters:
        for env in f.environments:
            if env not in pol.environments:
                out.append(error(cid, pol.path, f.env_line,
                                 f"filter {f.name!r} drops environment {env!r}, which is not declared under environments",
                                 f"declare it ({', '.join(sorted(pol.environments))}) or fix the name"))
            elif env == "production":
                out.append(error(cid, pol.path, f.env_line,
                                 f"filter {f.name!r} drops every production event",
                                 "production errors must reach error tracking; filter by exception type instead"))
    if "production" in pol.environments and not pol.environments["production"]:
        out.append(error(cid, pol.path, pol.environment_lines["production"],
                         "environment 'production' has send: false", "production errors must reach error tracking"))
    if pol.environments and not any(pol.sends(e) for e in pol.environments):
        out.append(error(cid, pol.path, pol.line_of("environments"), "no environment sends events"))
    if pol.sample_errors < 1.0:
        out.append(error(cid, pol.path, pol.line_of("sample_rates", "errors"),
                         f"sample_rates.errors is {pol.sample_errors:g}: errors would be dropped at random",
                         "keep 1.0; drop noise with filters, which say what and why"))
    return out


def telemetry_sample_rate(ctx: Context) -> list[Finding]:
    """Error tracking's traces rate and the tracer's sampling ratio are one decision."""
    pol, tr = _errors(ctx), _tracing(ctx)
    out: list[Finding] = []
    if abs(pol.sample_traces - tr.ratio) > 1e-9:
        out.append(error("telemetry/sample-rate", pol.path, pol.line_of("sample_rates", "traces"),
                         f"sample_rates.traces is {pol.sample_traces:g} but {tr.path} samples {tr.ratio:g} of traces",
                         "one sampling decision: make them equal (the seed uses tracesSampleRate 0.1)"))
    if tr.tolerance >= tr.ratio > 0:
        out.append(error("telemetry/sample-rate", tr.path, tr.line_of("sampling", "tolerance"),
                         f"tolerance {tr.tolerance:g} is not below the ratio {tr.ratio:g}: a drill could not tell "
                         "'sampling off' from 'sampling on'"))
    return out


# ----------------------------------------------------------------------------- tracing


def tracing_attributes(ctx: Context) -> list[Finding]:
    """Required span attributes stay bounded and free of personal data, and include the route."""
    tr = _tracing(ctx)
    out: list[Finding] = []
    line = tr.line_of("request_span", "required_attributes")
    for attr in tr.required_attributes:
        if attr in PII_ATTRIBUTES:
            out.append(error("tracing/attributes", tr.path, line,
                             f"required span attribute {attr!r} puts personal data on every span", "drop it"))
    if tr.required_attributes and "http.route" not in tr.required_attributes:
        out.append(error("tracing/attributes", tr.path, line,
                         "request spans do not require http.route (the route template)",
                         "without it a trace cannot be matched to the latency series of its route"))
    return out


def _datasources(ctx: Context) -> list[Any]:
    out = []
    for doc in ctx.inv.provisioning:
        items = doc.data.get("datasources") if isinstance(doc.data, dict) else None
        out += [(doc.path, d) for d in items or [] if isinstance(d, dict)]
    return out


def dashboards_exemplar(ctx: Context) -> list[Finding]:
    """Each latency panel named in tracing.yml shows exemplars that link to the trace."""
    tr = _tracing(ctx)
    if not tr.exemplar_panels or not tr.exemplar_metric:
        raise Skip(f"{tr.path} names no exemplar panels")
    if ctx.inv.mode == "loose" and not ctx.inv.dashboards:
        raise Skip("no dashboards among the paths: pass the exemplar panels' dashboards too")
    cid = "dashboards/exemplar"
    out: list[Finding] = []
    bucket = tr.exemplar_metric + "_bucket"
    by_path = {d.path: d for d in ctx.inv.dashboards}
    for path, title, line in tr.exemplar_panels:
        dash = by_path.get(path)
        if dash is None:
            out.append(error(cid, tr.path, line, f"exemplar panel: dashboard {path} not found"))
            continue
        panel = next((p for p in _raw_panels(dash.data) if p.get("title") == title), None)
        if panel is None:
            out.append(error(cid, tr.path, line, f"exemplar panel: {path} has no panel titled {title!r}"))
            continue
        targets = [t for t in panel.get("targets") or [] if isinstance(t, dict)]
        with_ex = [t for t in targets if t.get("exemplar") is True]
        if not with_ex:
            out.append(error(cid, dash.path, line_of(panel, "title"), f"panel {title!r} shows no exemplars",
                             f'add a target over {bucket} with "exemplar": true'))
            continue
        for t in with_ex:
            a = analyze(strip_grafana_vars(str(t.get("expr", ""))))
            if a.ok and bucket not in a.metric_names:
                out.append(error(cid, dash.path, line_of(t, "exemplar"),
                                 f"panel {title!r} query {t.get('refId', '?')} asks for exemplars but selects no {bucket} "
                                 "(recorded series carry no exemplars)", f"select {bucket} itself"))
    label = tr.exemplar_label or "trace_id"
    sources = _datasources(ctx)
    if sources:
        uids = {str(d.get("uid")) for _, d in sources}
        proms = [(p, d) for p, d in sources if d.get("type") == "prometheus"]
        linked = False
        for p, d in proms:
            jd = d.get("jsonData") if isinstance(d.get("jsonData"), dict) else {}
            for dest in jd.get("exemplarTraceIdDestinations") or []:
                if isinstance(dest, dict) and dest.get("name") == label:
                    linked = True
                    uid = dest.get("datasourceUid")
                    if uid is not None and str(uid) not in uids:
                        out.append(error(cid, p, line_of(dest), f"exemplar link {label!r} points at data source "
                                         f"{uid!r}, which is not provisioned"))
        if not linked and proms:
            p, d = proms[0]
            out.append(error(cid, p, line_of(d), f"Prometheus data source {d.get('name')!r} has no "
                             f"exemplarTraceIdDestinations entry named {label!r}: exemplars show but link nowhere"))
    return out


def _raw_panels(d: Any) -> list[Any]:
    out: list[Any] = []
    node = d.get("dashboard", d) if isinstance(d, dict) else {}
    for p in (node.get("panels") or []) if isinstance(node, dict) else []:
        if isinstance(p, dict):
            out.append(p)
            out += _raw_panels(p)
    return out


# ----------------------------------------------------------------------------- logging


def _line_props(ctx: Context) -> tuple[YamlDoc, dict[str, Any]]:
    doc = ctx.inv.log_line_schema
    if doc is None:
        raise Skip("no log line schema (monitoring/logging/log-line.schema.json)")
    props = doc.data.get("properties") if isinstance(doc.data, dict) else None
    return doc, props if isinstance(props, dict) else {}


def logging_correlation(ctx: Context) -> list[Finding]:
    """Every correlation field is a required string of the log line, ids in W3C trace-context form."""
    pol = _logging(ctx)
    cid = "logging/correlation"
    out: list[Finding] = []
    if ctx.inv.log_line_schema is None or pol.line_schema != ctx.inv.log_line_schema.path:
        return [error(cid, pol.path, pol.line_of("line_schema"),
                      f"line_schema {pol.line_schema!r} is not the loaded log line schema "
                      "(monitoring/logging/log-line.schema.json)")]
    doc, props = _line_props(ctx)
    required = doc.data.get("required") if isinstance(doc.data, dict) else None
    required = required if isinstance(required, list) else []
    for name in pol.correlation:
        if name not in props:
            out.append(error(cid, doc.path, line_of(doc.data, "properties"), f"correlation field {name!r} is not a property of the log line"))
            continue
        if name not in required:
            out.append(error(cid, doc.path, line_of(doc.data, "required") if "required" in doc.data else doc.data.line,
                             f"correlation field {name!r} is not required: a line without it cannot be joined to its trace"))
        want = {"trace_id": _HEX32, "span_id": _HEX16}.get(name)
        spec = props[name] if isinstance(props[name], dict) else {}
        if want and spec.get("pattern") != want:
            out.append(error(cid, doc.path, line_of(props, name),
                             f"{name} must be lower-case hex as in W3C trace context (pattern {want})",
                             "the same form as the trace and the exemplar label, so one search finds all three"))
    return out


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def logging_forbidden_field(ctx: Context) -> list[Finding]:
    """The log line cannot carry personal data: no forbidden property, no open-ended properties."""
    pol = _logging(ctx)
    doc, props = _line_props(ctx)
    banned = {_norm(f): f for f in pol.forbidden_fields}
    out: list[Finding] = []
    for name in props:
        if _norm(str(name)) in banned:
            out.append(error("logging/forbidden-field", doc.path, line_of(props, name),
                             f"log line property {name!r} is forbidden by {pol.path} ({banned[_norm(str(name))]})",
                             "log a request id instead; personal data in logs must be deleted on request"))
    if isinstance(doc.data, dict) and doc.data.get("additionalProperties") is not False:
        out.append(error("logging/forbidden-field", doc.path, getattr(doc.data, "line", 1),
                         "the log line schema allows any other property, so forbidden fields cannot be ruled out",
                         'set "additionalProperties": false and list every field'))
    return out


def logging_levels(ctx: Context) -> list[Finding]:
    """The line's level enum is the policy's levels; default and error levels are among them."""
    pol = _logging(ctx)
    out: list[Finding] = []
    for key, value in (("default_level", pol.default_level), ("error_level", pol.error_level)):
        if pol.levels and value not in pol.levels:
            out.append(error("logging/levels", pol.path, pol.line_of(key), f"{key} {value!r} is not one of levels {pol.levels}"))
    if ctx.inv.log_line_schema is not None:
        doc, props = _line_props(ctx)
        level = props.get("level") if isinstance(props.get("level"), dict) else None
        enum = level.get("enum") if level else None
        if not isinstance(enum, list) or sorted(map(str, enum)) != sorted(pol.levels):
            out.append(error("logging/levels", doc.path, line_of(props, "level") if "level" in props else 1,
                             f"log line level must be an enum of exactly {pol.levels} ({pol.path}), found {enum}"))
    return out


# ----------------------------------------------------------------------------- lighthouse


def _obj(node: Any, key: str) -> dict[str, Any]:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def lighthouse_budget(ctx: Context) -> list[Finding]:
    """Lab budgets fail the run (level error) and are no looser than web-vitals' 'good'."""
    doc = ctx.inv.lighthouse
    if doc is None:
        raise Skip("no Lighthouse CI configuration (monitoring/lighthouse/lighthouserc.json)")
    ci = _obj(doc.data, "ci")
    assertions = _obj(_obj(ci, "assert"), "assertions") or None
    cid = "lighthouse/budget"
    out: list[Finding] = []
    if assertions is None:
        return [error(cid, doc.path, getattr(ci, "line", 1), "no ci.assert.assertions: nothing can fail")]
    for audit, good in GOOD_THRESHOLDS.items():
        a = assertions.get(audit)
        line = line_of(assertions, audit) if audit in assertions else getattr(assertions, "line", 1)
        if a is None:
            out.append(error(cid, doc.path, line, f"no budget for {audit}", f'add "{audit}": ["error", {{"maxNumericValue": {good:g}}}]'))
            continue
        level = a if isinstance(a, str) else a[0] if isinstance(a, list) and a else None
        opts = a[1] if isinstance(a, list) and len(a) > 1 and isinstance(a[1], dict) else {}
        if level != "error":
            out.append(error(cid, doc.path, line, f"{audit} budget is at level {level!r}: a breach would not fail the job"))
        value = opts.get("maxNumericValue")
        if isinstance(value, (int, float)) and value > good:
            out.append(error(cid, doc.path, line, f"{audit} budget {value:g} is looser than web-vitals' good threshold {good:g}"))
    upload = _obj(ci, "upload")
    if upload.get("target") == "temporary-public-storage":
        out.append(error(cid, doc.path, line_of(upload, "target"),
                         "upload target temporary-public-storage publishes every report on a public URL",
                         'use "filesystem" and keep the reports as workflow artifacts'))
    return out
