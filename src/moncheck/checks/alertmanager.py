"""Checks on the Alertmanager config and its routing tests, on the one model
(``moncheck.alertmanager``): every alert's severity reaches a real receiver (``alerts/unrouted``),
the routing-tests file has the documented format (``schema/routing-tests``), and, when amtool is
missing, its cases run on the model (``amtool/routing-tests``, route and inhibition cases)."""

from __future__ import annotations

from moncheck import alertmanager as am
from moncheck.checks.base import Context, Skip, validate
from moncheck.findings import Finding, error


def _config(ctx: Context) -> am.Config:
    doc = ctx.inv.alertmanager
    if doc is None:
        raise Skip("no alertmanager config")
    if doc.config is None:
        # amtool/check-config reports the same problem with Alertmanager's own words.
        raise Skip(f"the Alertmanager config does not load: {doc.error}")
    return doc.config


def alerts_unrouted(ctx: Context) -> list[Finding]:
    cfg = _config(ctx)
    tree = cfg.route
    default = ctx.pol.default_receiver or tree.receiver
    out = []
    for r in ctx.inv.alerts:
        labels = {k: v for k, v in r.labels.items() if "{{" not in v}
        labels["alertname"] = r.name
        handlers = tree.match(labels)
        receivers = [h.receiver for h in handlers]
        line = r.label_lines.get("severity", r.line)
        sev = labels.get("severity", "")
        # Unrouted: no route below the root matched, so it falls back to the default receiver.
        if handlers == [tree]:
            out.append(error("alerts/unrouted", r.file, line,
                             f"alert {r.name!r} (severity {sev!r}) matches no route: it only reaches the default receiver {default!r}",
                             "add a route for its severity in alertmanager.yml"))
            continue
        missing = [x for x in ctx.pol.routing.get(sev, []) if x not in receivers]
        if missing:
            out.append(error("alerts/unrouted", r.file, line,
                             f"alert {r.name!r} (severity {sev!r}) does not reach {', '.join(missing)} (reaches {', '.join(receivers)})",
                             "policies/policy.yml alerts.routing says which receivers each severity reaches"))
    return out


def schema_routing_tests(ctx: Context) -> list[Finding]:
    rt = ctx.inv.routing_tests
    if rt is None:
        raise Skip("no routing tests (monitoring/alertmanager/routing-tests.yml)")
    return validate(ctx, "schema/routing-tests", "routing-tests", rt.path, rt.data)


def routing_tests_model(ctx: Context) -> list[Finding]:
    """Every routing-tests case (``tests:`` and ``inhibit_tests:``) on the model: the gate's
    fallback when amtool is missing."""
    rt = ctx.inv.routing_tests
    if rt is None:
        raise Skip("no routing tests")
    if rt.error is not None:
        return [error(am.ROUTING_TESTS_CHECK, rt.error.path, rt.error.line, f"routing tests not run: {rt.error.message}")]
    doc = ctx.inv.alertmanager
    if doc is None:
        return [error(am.ROUTING_TESTS_CHECK, rt.path, 1, "routing tests not run: no Alertmanager config to test")]
    config = doc.config if doc.config is not None else doc.error
    assert config is not None
    return [f for c in rt.cases if (f := am.run_case(c, config, rt.path)) is not None]
