"""The policy: settings of the checks (``policies/policy.yml``) and suppressions.

Correctness first: without a policy file only the checks that find bugs run. Organisation rules
(required labels and annotations, allowed severities, minimum ``for``, runbooks, tests and drills
for every alert, name patterns...) are opt-in: a policy file lists them under ``enable:`` and
configures them with the settings below. Absent file => ``Policy()`` (nothing opted in). The file is validated against
``policies/schemas/policy.schema.json`` by the ``schema/policy`` check; here we read it leniently
so a bad policy still yields a usable one (and findings, never exceptions).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass, field
from typing import Any

from moncheck import durations
from moncheck.findings import Finding, error
from moncheck.yamlpos import line_of

SECRETS = "secrets/inline"
DEFAULT_SEVERITIES = ("critical", "high", "warning", "info")
DEFAULT_DEPRECATED_PANELS = ("graph", "singlestat", "table-old", "grafana-piechart-panel", "grafana-worldmap-panel")
DEFAULT_FORBIDDEN_LABELS = (
    "user_id", "userid", "user", "email", "session_id", "request_id", "trace_id", "span_id",
    "ip", "client_ip", "remote_addr", "url", "path", "raw_path", "query", "user_agent",
)


@dataclass
class Suppression:
    check: str
    target: str
    reason: str
    path: str
    line: int
    expires: dt.date | None = None
    target_line: int | None = None  # only findings on this line of ``target``

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def covers(self, f: Finding, alert_at: dict[tuple[str, int], str]) -> bool:
        if not fnmatch.fnmatchcase(f.check, self.check):
            return False
        if f.check == SECRETS and not (self.target == f.path and self.target_line == f.line):
            return False  # a secret is only ever suppressed by naming its exact file and line
        if self.target_line is not None:
            return self.target == f.path and self.target_line == f.line
        if fnmatch.fnmatchcase(f.path, self.target):
            return True
        name = alert_at.get((f.path, f.line))
        return name is not None and fnmatch.fnmatchcase(name, self.target)


@dataclass
class Policy:
    path: str | None = None
    required_labels: list[str] = field(default_factory=lambda: ["severity", "team"])
    required_annotations: list[str] = field(default_factory=lambda: ["summary", "description", "runbook_url"])
    severities: list[str] = field(default_factory=lambda: list(DEFAULT_SEVERITIES))
    teams: list[str] | None = None  # allowed values of the team label; None: any
    # severity -> shortest `for` in seconds (a page must outlast a blip; lower severities wait longer)
    min_for: dict[str, float] = field(default_factory=lambda: {"critical": 60, "high": 120, "warning": 300, "info": 600})
    routing: dict[str, list[str]] = field(default_factory=dict)  # severity -> receivers it must reach
    default_receiver: str | None = None
    runbook_url_prefix: str | None = None
    runbooks_dir: str = "monitoring/runbooks"
    forbidden_labels: list[str] = field(default_factory=lambda: list(DEFAULT_FORBIDDEN_LABELS))
    max_label_bound: int = 100
    max_series_per_metric: int | None = None  # opt-in: label products overestimate a lot
    deprecated_panels: list[str] = field(default_factory=lambda: list(DEFAULT_DEPRECATED_PANELS))
    datasource_variable_type: str = "datasource"
    suppressions: list[Suppression] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    enabled: frozenset[str] = frozenset()  # opt-in organisation checks the policy turns on
    disabled: frozenset[str] = frozenset()  # checks the policy turns off (globs)
    alert_name_pattern: str | None = None  # alerts/name: the pattern names must match

    def runs(self, check: str, opt_in: bool) -> bool:
        """Whether the check runs under this policy."""
        if any(fnmatch.fnmatchcase(check, d) for d in self.disabled):
            return False
        return not opt_in or any(fnmatch.fnmatchcase(check, e) for e in self.enabled)


def parse_date(v: Any) -> dt.date | None:
    """A YAML date or a ``YYYY-MM-DD`` string; None if it is neither."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v).strip())
    except ValueError:
        return None


def parse_duration(text: Any) -> float | None:
    """Prometheus duration (``1h30m``, ``5m``, ``0s``) in seconds; None if malformed."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    try:
        return durations.parse_ms(text) / 1000
    except ValueError:
        return None


def _section(data: dict, name: str) -> dict:
    v = data.get(name)
    return v if isinstance(v, dict) else {}


def _strs(v: Any, default: list[str]) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else default


def from_data(data: Any, path: str | None) -> Policy:
    pol = Policy(path=path)
    if not isinstance(data, dict):
        return pol
    # Settings live flat under `settings:`; `alerts:`/`catalog:`/`dashboards:` sections are
    # accepted too (a key in a section wins over the flat one).
    flat = {**{k: v for k, v in data.items() if k not in ("alerts", "catalog", "dashboards")}, **_section(data, "settings")}
    alerts = {**flat, **_section(data, "alerts")}
    catalog = {**flat, **_section(data, "catalog")}
    dashboards = {**flat, **_section(data, "dashboards")}
    data = {**flat, **data}
    pol.required_labels = _strs(alerts.get("required_labels"), pol.required_labels)
    pol.required_annotations = _strs(alerts.get("required_annotations"), pol.required_annotations)
    pol.severities = _strs(alerts.get("allowed_severities", alerts.get("severities")), pol.severities)
    teams = alerts.get("allowed_teams", alerts.get("teams"))
    if isinstance(teams, list):
        pol.teams = _strs(teams, [])
    for sev, d in _section(alerts, "min_for").items():
        secs = parse_duration(d)
        if secs is not None:
            pol.min_for[str(sev)] = secs
    for sev, recv in _section(alerts, "routing").items():
        pol.routing[str(sev)] = _strs(recv, []) if isinstance(recv, list) else [str(recv)]
    if isinstance(alerts.get("default_receiver"), str):
        pol.default_receiver = alerts["default_receiver"]
    for key in ("runbook_url_prefix", "runbooks_dir"):
        v = data.get(key, alerts.get(key))
        if isinstance(v, str):
            setattr(pol, key, v)
    pol.forbidden_labels = _strs(catalog.get("forbidden_labels"), pol.forbidden_labels)
    for key in ("max_label_bound", "max_series_per_metric"):
        if isinstance(catalog.get(key), int):
            setattr(pol, key, catalog[key])
    pol.deprecated_panels = _strs(dashboards.get("deprecated_panels"), pol.deprecated_panels)
    pol.enabled = frozenset(_strs(data.get("enable"), []))
    pol.disabled = frozenset(_strs(data.get("disable"), []))
    pattern = alerts.get("alert_name_pattern")
    if isinstance(pattern, str):
        pol.alert_name_pattern = pattern
    sups = data.get("suppressions")
    if isinstance(sups, list):
        for i, s in enumerate(sups):
            line = sups.item_lines[i] if hasattr(sups, "item_lines") else 1
            if not isinstance(s, dict):
                continue
            reason = s.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                pol.findings.append(
                    error(
                        "policy/suppression",
                        path or "policies/policy.yml",
                        line_of(s, default=line),
                        f"suppression of {s.get('check')!r} for {s.get('target')!r} has no reason",
                        "every suppression says why (reason: ...); it is ignored until it does",
                    )
                )
                continue
            where = path or "policies/policy.yml"
            problem = _suppression_problem(s)
            if problem:
                pol.findings.append(error("policy/suppression", where, line_of(s, default=line), problem,
                                          "it is ignored until it does"))
                continue
            expires = None
            if s.get("expires") is not None:
                expires = parse_date(s["expires"])
                if expires is None:
                    pol.findings.append(error("policy/suppression", where, line_of(s, "expires", default=line),
                                              f"suppression of {s.get('check')!r}: expires {s['expires']!r} is not a date (YYYY-MM-DD)"))
                    continue
            tline = s.get("line")
            pol.suppressions.append(Suppression(s["check"], s["target"], reason, path or "", line_of(s, default=line),
                                                expires, tline if isinstance(tline, int) else None))
    return pol


def _suppression_problem(s: dict) -> str | None:
    """Why a suppression (which has a reason) cannot apply: it must name a check and a target,
    and one that can cover ``secrets/inline`` must name the exact file and line."""
    check, target, tline = s.get("check"), s.get("target"), s.get("line")
    if not isinstance(check, str) or not check.strip() or not isinstance(target, str) or not target.strip():
        return f"suppression must name a check and a target (check: {check!r}, target: {target!r})"
    if tline is not None and (not isinstance(tline, int) or isinstance(tline, bool) or tline < 1):
        return f"suppression line must be a line number, not {tline!r}"
    # A wildcard check (`*`, `secrets/*`) never covers a secret either (see Suppression.covers).
    if check == SECRETS and (any(c in target for c in "*?[") or tline is None):
        return (f"a suppression of {SECRETS} must name the exact file and line (target: <file>, line: <n>), "
                f"not {target!r}" + ("" if tline is None else f" line {tline}"))
    return None
