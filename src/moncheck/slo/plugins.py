"""Sloth v0.16 SLO plugins (``slo_plugins`` of a spec, ``plugins`` of an SLO): what they mean
for the generated rules, resolved as Sloth's ``internal/app/generate`` does.

Sloth runs, per SLO: the spec's chain then the SLO's (the SLO's ``overridePrevious: true`` drops
the spec's), sorted by ``priority`` (stable); those below 0 before its default plugins
(validate, SLI, metadata and alert rules), the rest after; ``overridePrevious`` at either level
also drops the defaults. moncheck cannot run Sloth's plugins (Go code), so it supports the ones
whose effect it reproduces and rejects the others with the reason (docs/slo.md, "SLO plugins"):

- no effect on the rules: ``core/debug/v1``, ``core/noop/v1``, ``core/validate/v1`` (moncheck
  validates anyway), the core rule generators without config (they regenerate the same rules),
  and ``contrib/alert_for/v1`` (unreleased in v0.16; moncheck's ``for:`` is built in);
- ``contrib/info_labels/v1``: its labels on the metadata rule ``metricName``
  (default ``sloth_slo_info``), only if it runs after the metadata rules, as in Sloth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moncheck import yamlpos

CORE = "sloth.dev/core/"
SLI_RULES, META_RULES, ALERT_RULES = (f"{CORE}sli_rules/v1", f"{CORE}metadata_rules/v1",
                                      f"{CORE}alert_rules/v1")
INFO_LABELS = "sloth.dev/contrib/info_labels/v1"
ALERT_FOR = "sloth.dev/contrib/alert_for/v1"
NO_EFFECT = {f"{CORE}debug/v1", f"{CORE}noop/v1", f"{CORE}validate/v1", ALERT_FOR}
GENERATORS = (SLI_RULES, META_RULES, ALERT_RULES)
# Why each known plugin moncheck does not reproduce is rejected.
REJECTED = {
    "sloth.dev/contrib/rule_intervals/v1": "a group `interval` changes when the SLI and alert "
    "rules are evaluated, and the generated tests and their scenario model evaluate every "
    "rule once a minute; set the evaluation interval in Prometheus instead",
    "sloth.dev/contrib/remove_labels/v1": "it removes the SLO's labels from the SLI and metadata "
    "rules, and with them from the alerts, which the generated tests, runbooks and routing "
    "rely on; drop the labels from the spec instead",
    "sloth.dev/contrib/error_budget_exhausted_alert/v1": "it adds an alert that would have no "
    "generated test and no runbook (alerts/untested, alerts/runbook); write it as a rule with "
    "its promtool test",
    "sloth.dev/contrib/denominator_corrected_rules/v1": "it replaces the SLI rules with "
    "traffic-weighted ones that the scenario model of the generated tests does not compute",
    "sloth.dev/contrib/validate_victoria_metrics/v1": "moncheck generates and validates "
    "PromQL for Prometheus, not MetricsQL",
}
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DEFAULTS = "(defaults)"
# The records of Sloth's metadata rules (info_labels' metricName must be one of them).
META_RECORDS = ("slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days",
                "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
                "slo:period_error_budget_remaining:ratio", "sloth_slo_info")
Add = Callable[[int, str], None]


@dataclass(frozen=True)
class Plugin:
    id: str
    config: Any
    priority: int
    line: int


@dataclass
class Chain:
    plugins: list[Plugin] = field(default_factory=list)
    override: bool = False
    line: int = 1


def parse(node: Any, line: int, where: str, add: Add) -> Chain | None:
    """A ``{overridePrevious, chain: [{id, config, priority}]}`` mapping, or None (reported)."""
    if node is None:
        return Chain(line=line)
    if not isinstance(node, dict) or not isinstance(node.get("chain"), list):
        add(line, f"{where}expected a mapping with a `chain` list")
        return None
    out = Chain(line=line)
    override = node.get("overridePrevious", False)
    if not isinstance(override, bool):
        add(yamlpos.line_of(node, "overridePrevious"), f"{where}overridePrevious must be true "
            "or false")
        return None
    out.override = override
    ok = True
    chain = node["chain"]
    for i, p in enumerate(chain):
        pl = yamlpos.item_lines(chain)[i] if isinstance(chain, yamlpos.LocList) else line
        pid = p.get("id") if isinstance(p, dict) else None
        if not isinstance(pid, str) or not pid:
            add(pl, f"{where}chain[{i}]: id is required")
            ok = False
            continue
        prio = p.get("priority", 0)
        if isinstance(prio, bool) or not isinstance(prio, int):
            add(yamlpos.line_of(p, "priority"), f"{where}{pid}: priority must be an integer")
            ok = False
            continue
        why = _problem(pid, p.get("config"))
        if why is not None:
            add(pl, f"{where}plugin {pid!r}: {why}")
            ok = False
            continue
        out.plugins.append(Plugin(pid, p.get("config"), prio, pl))
    return out if ok else None


def _problem(pid: str, config: Any) -> str | None:
    unsupported = "not supported by moncheck: "
    if pid in REJECTED:
        return unsupported + REJECTED[pid]
    if pid in NO_EFFECT:
        return None
    if pid in GENERATORS:
        if config not in (None, {}):
            return (unsupported + "a config (e.g. disableOptimized): moncheck generates these "
                    "rules in one way")
        return None
    if pid == INFO_LABELS:
        return _info_config_problem(config)
    return (unsupported + "moncheck cannot run Sloth plugins (Go code Sloth loads at run "
            "time); it reproduces only the plugins docs/slo.md lists")


def _info_config_problem(config: Any) -> str | None:
    if not isinstance(config, dict) or not isinstance(config.get("labels"), dict) \
            or not config["labels"]:
        return "invalid config: labels is required (at least one label), as Sloth requires it"
    for k, v in config["labels"].items():
        if not isinstance(k, str) or not _LABEL_RE.match(k):
            return (f"invalid config: label name {k!r} must match {_LABEL_RE.pattern} "
                    "(promtool 2 rejects it; Sloth does not check)")
        if not isinstance(v, str):
            return f"invalid config: label {k}: the value must be a string, as in Sloth"
    name = config.get("metricName")
    if name is not None and not isinstance(name, str):
        return "invalid config: metricName must be a string"
    return None


def metadata_labels(group: Chain, slo: Chain, where: str,
                    add: Add, warn: Add) -> dict[str, dict[str, str]] | None:
    """Extra labels per metadata record after the SLO's whole chain (None: reported)."""
    plugins = list(slo.plugins) if slo.override else [*group.plugins, *slo.plugins]
    override = group.override or slo.override
    ordered = sorted(plugins, key=lambda p: p.priority)  # stable, as slices.SortStableFunc
    if override:
        missing = [g for g in GENERATORS if g not in {p.id for p in ordered}]
        if missing:
            line = slo.line if slo.override else group.line
            add(line, f"{where}overridePrevious drops Sloth's default plugins, and the chain "
                f"does not generate them again ({', '.join(missing)}): moncheck always "
                "generates SLI, metadata and alert rules (list the three core plugins)")
            return None
        steps: list[Plugin | str] = list(ordered)
    else:
        steps = [*(p for p in ordered if p.priority < 0), _DEFAULTS,
                 *(p for p in ordered if p.priority >= 0)]
    labels: dict[str, dict[str, str]] = {}
    generated = False
    about = where.replace("invalid slo", "slo", 1)  # a warning: the SLO stays valid
    for st in steps:
        if st == _DEFAULTS or (isinstance(st, Plugin) and st.id == META_RULES):
            generated, labels = True, {}  # (re)generated metadata rules: earlier labels gone
            continue
        if not isinstance(st, Plugin) or st.id != INFO_LABELS:
            continue
        metric = st.config.get("metricName") or "sloth_slo_info"
        if metric not in META_RECORDS:
            warn(st.line, f"{about}{INFO_LABELS}: metricName {metric!r} is not a metadata rule "
                 f"({', '.join(META_RECORDS)}): as in Sloth, it changes nothing")
            continue
        if not generated:
            warn(st.line, f"{about}{INFO_LABELS} runs before the metadata rules exist "
                 f"(priority {st.priority}): as in Sloth, it changes nothing")
            continue
        labels.setdefault(metric, {}).update(st.config["labels"])
    return labels
