"""Prometheus rules for an SLO, in exactly the names and shapes Sloth v0.16 generates.

Mirrors slok/sloth ``internal/plugin/slo/core/{sli_rules_v1,metadata_rules_v1,alert_rules_v1}``:
one SLI error-ratio recording rule per alert window plus the period (optimised from the 5m rule),
metadata rules, and a page and a ticket multi-window multi-burn-rate alert. Each condition is
``max(... > t) without (sloth_window)``, so an alert's labels do not depend on which window pair
fires: it keeps firing (no resolve, no new ``for``) when the burn moves from one pair to the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from moncheck.slo.gofmt import go_float, prom_duration
from moncheck.slo.model import SLO, AlertMeta
from moncheck.slo.promql import fill_window
from moncheck.slo.windows import Window, Windows, for_period

WINDOW_LABEL = "sloth_window"


@dataclass
class Info:
    """What ``sloth_slo_info`` reports; Sloth puts its version and CLI mode there."""

    version: str = "moncheck"
    extra_labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Rule:
    record: str | None = None
    alert: str | None = None
    expr: str = ""
    for_: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Group:
    name: str
    rules: list[Rule]


def sli_metric(window_ms: int) -> str:
    return f"slo:sli_error:ratio_rate{prom_duration(window_ms)}"


def label_filter(labels: dict[str, str]) -> str:
    """Sloth's ``labelsToPromFilter``: sorted, ``k="v"`` joined by ``, ``."""
    return "{" + ", ".join(f'{k}="{labels[k]}"' for k in sorted(labels)) + "}"


def windows_of(slo: SLO) -> Windows:
    w = slo.windows or for_period(slo.period_ms)
    if w is None:  # the loader rejects unsupported periods; this guards direct model use
        raise ValueError(f"unsupported SLO period {prom_duration(slo.period_ms)}")
    return w


def slo_groups(slo: SLO, info: Info) -> list[Group]:
    ws = windows_of(slo)
    groups = [
        Group(f"sloth-slo-sli-recordings-{slo.id}", sli_rules(slo, ws, info)),
        Group(f"sloth-slo-meta-recordings-{slo.id}", meta_rules(slo, ws, info)),
    ]
    alerts = alert_rules(slo, ws)
    if alerts:
        groups.append(Group(f"sloth-slo-alerts-{slo.id}", alerts))
    return groups


def sli_rules(slo: SLO, ws: Windows, info: Info) -> list[Rule]:
    rules = []
    for w in ws.all_windows_ms():
        win = prom_duration(w)
        if slo.error_ratio_query is not None:
            expr = fill_window(f"({slo.error_ratio_query})", win)
        else:
            expr = fill_window(f"({slo.error_query})\n/\n({slo.total_query})\n", win)
        rules.append(Rule(record=sli_metric(w), expr=expr, labels=_sli_labels(slo, info, win)))
    # The period SLI is an average of the short-window ratio (cheap to evaluate over 30d).
    short, period = sli_metric(ws.page_quick.short_ms), prom_duration(slo.period_ms)
    flt = label_filter(slo.id_labels())
    rules.append(Rule(
        record=sli_metric(slo.period_ms),
        expr=(f"sum_over_time({short}{flt}[{period}])\n/ ignoring ({WINDOW_LABEL})\n"
              f"count_over_time({short}{flt}[{period}])\n"),
        labels=_sli_labels(slo, info, period)))
    return rules


def slo_labels(slo: SLO, info: Info) -> dict[str, str]:
    """The SLO's own labels; extra labels win, as Sloth merges ``--extra-labels`` last."""
    return {**slo.labels, **info.extra_labels}


def _sli_labels(slo: SLO, info: Info, window: str) -> dict[str, str]:
    return {**slo.id_labels(), WINDOW_LABEL: window, **slo_labels(slo, info)}


def meta_rules(slo: SLO, ws: Windows, info: Info) -> list[Rule]:
    labels = {**slo.id_labels(), **slo_labels(slo, info)}
    ratio = slo.objective / 100
    flt = label_filter(slo.id_labels())

    def burn(metric: str) -> str:
        return (f"{metric}{flt}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\n"
                f"slo:error_budget:ratio{flt}\n")

    info_labels = {**labels, "sloth_version": info.version, "sloth_mode": slo.mode,
                   "sloth_spec": slo.spec_version, "sloth_objective": go_float(slo.objective)}
    rules = [
        Rule(record="slo:objective:ratio", expr=f"vector({go_float(ratio)})", labels=labels),
        Rule(record="slo:error_budget:ratio", expr=f"vector(1-{go_float(ratio)})", labels=labels),
        Rule(record="slo:time_period:days",
             expr=f"vector({go_float(slo.period_ms / 3_600_000 / 24)})", labels=labels),
        Rule(record="slo:current_burn_rate:ratio", expr=burn(sli_metric(ws.page_quick.short_ms)),
             labels=labels),
        Rule(record="slo:period_burn_rate:ratio", expr=burn(sli_metric(slo.period_ms)),
             labels=labels),
        Rule(record="slo:period_error_budget_remaining:ratio",
             expr=f"1 - slo:period_burn_rate:ratio{flt}", labels=labels),
        Rule(record="sloth_slo_info", expr="vector(1)", labels=info_labels),
    ]
    for r in rules:  # Sloth's info_labels plugin: utilsdata.MergeLabels(rule, plugin labels)
        r.labels = {**r.labels, **slo.meta_labels.get(r.record or "", {})}
    return rules


def alert_rules(slo: SLO, ws: Windows) -> list[Rule]:
    out = []
    pairs = (("page", slo.page, ws.page_quick, ws.page_slow),
             ("ticket", slo.ticket, ws.ticket_quick, ws.ticket_slow))
    for severity, meta, quick, slow in pairs:
        if meta is None or meta.disable:
            continue
        out.append(_alert(slo, ws, severity, meta, quick, slow))
    return out


def alert_expr(slo: SLO, ws: Windows, quick: Window, slow: Window) -> str:
    flt = label_filter(slo.id_labels())
    budget = go_float((100 - slo.objective) / 100)

    def cond(window_ms: int, w: Window) -> str:
        return (f"    max({sli_metric(window_ms)}{flt} > ({go_float(ws.factor(w))} * {budget}))"
                f" without ({WINDOW_LABEL})")

    return (f"(\n{cond(quick.short_ms, quick)}\n    and\n{cond(quick.long_ms, quick)}\n)\n"
            f"or\n(\n{cond(slow.short_ms, slow)}\n    and\n{cond(slow.long_ms, slow)}\n)\n")


def _alert(slo: SLO, ws: Windows, severity: str, meta: AlertMeta, quick: Window,
           slow: Window) -> Rule:
    annotations = {
        "title": f"({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO "
                 "error budget burn rate is too fast.",
        "summary": "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn "
                   "rate is over expected.",
        **meta.annotations,
    }
    return Rule(alert=meta.name, expr=alert_expr(slo, ws, quick, slow), for_=meta.for_,
                labels={"sloth_severity": severity, **meta.labels}, annotations=annotations)
