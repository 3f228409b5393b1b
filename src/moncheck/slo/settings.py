"""The SLO section of the policy (``policies/policy.yml``, key ``slo``).

```yaml
slo:
  default_period: 30d            # Sloth's --default-slo-period
  alert_windows:                 # Sloth AlertWindows files (--slo-period-windows-path):
    - monitoring/slos/windows/*.yml   # they replace the built-in 30d/28d/7d windows
  openslo_alerts:                # alerts of OpenSLO SLOs that have no alertPolicies
    page: {for: 2m, labels: {severity: critical}}
    ticket: {for: 10m, labels: {severity: warning}}
```

Every problem is an error at its line (``slo/spec`` for the section, ``slo/windows`` for the
windows files); an unusable setting falls back to the built-in value, so generation never
runs with a half-read policy unnoticed (the errors stop it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moncheck import yamlpos
from moncheck.findings import Finding, error
from moncheck.slo.gofmt import parse_duration, prom_duration
from moncheck.slo.windows import (
    CHECK as WINDOWS_CHECK,
)
from moncheck.slo.windows import (
    DEFAULT_PERIOD_MS,
    SUPPORTED,
    Windows,
    parse_alert_windows,
    periods_text,
)

CHECK = "slo/spec"
SECTION = "slo"
_KEYS = {"default_period", "alert_windows", "openslo_alerts"}
_ALERT_KEYS = {"disable", "for", "labels", "annotations"}
# Alert name of an OpenSLO SLO without alertPolicies: CamelCase of `<service>-<slo>` + this.
DEFAULT_NAME_SUFFIX = "ErrorBudgetBurn"


@dataclass
class AlertDefault:
    disable: bool = False
    for_: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Settings:
    default_period_ms: int = DEFAULT_PERIOD_MS
    default_period_line: int = 1
    windows: dict[int, Windows] = field(default_factory=lambda: dict(SUPPORTED))
    windows_origin: str = "built-in"
    name_suffix: str = DEFAULT_NAME_SUFFIX
    page: AlertDefault = field(default_factory=AlertDefault)
    ticket: AlertDefault = field(default_factory=AlertDefault)
    path: str = "policies/policy.yml"

    def period_error(self, period_ms: int) -> str | None:
        if period_ms in self.windows:
            return None
        return (f"unsupported SLO period {prom_duration(period_ms)}: no alert windows for it "
                f"({self.windows_origin} windows: {periods_text(self.windows)})")


def load(repo: Path, policy: Any, policy_path: str | None) -> tuple[Settings, list[Finding]]:
    """The SLO settings of the policy's loaded data (None: no policy file, the defaults)."""
    st = Settings(path=policy_path or "policies/policy.yml")
    section = policy.get(SECTION) if isinstance(policy, dict) else None
    if section is None:
        return st, []
    out: list[Finding] = []

    def bad(node: Any, key: str | None, message: str) -> None:
        out.append(error(CHECK, st.path, yamlpos.line_of(node, key), f"policy slo: {message}"))

    if not isinstance(section, dict):
        bad(policy, SECTION, "must be a mapping")
        return st, out
    for k in section:
        if k not in _KEYS:
            bad(section, str(k), f"unknown key {k!r} (expected one of: {', '.join(sorted(_KEYS))})")
    files = section.get("alert_windows")
    if files is not None:
        _load_windows(repo, section, files, st, out, bad)
    period = section.get("default_period")
    if period is not None:
        st.default_period_line = yamlpos.line_of(section, "default_period")
        try:
            st.default_period_ms = parse_duration(str(period))
        except ValueError as e:
            bad(section, "default_period", f"default_period: invalid duration {period!r}: {e}")
    if (why := st.period_error(st.default_period_ms)) is not None:
        bad(section, "default_period" if period is not None else None, f"default_period: {why}")
    alerts = section.get("openslo_alerts")
    if alerts is not None:
        _load_alerts(alerts, section, st, bad)
    return st, out


def _load_windows(repo: Path, section: dict, files: Any, st: Settings, out: list[Finding],
                  bad: Any) -> None:
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        bad(section, "alert_windows", "alert_windows must be a list of file paths or globs")
        return
    found: dict[int, tuple[Windows, str]] = {}
    lines = yamlpos.item_lines(files)
    for i, pattern in enumerate(files):
        paths = sorted(repo.glob(pattern)) if any(c in pattern for c in "*?[") else [repo / pattern]
        if not paths:
            out.append(error(CHECK, st.path, lines[i] if i < len(lines) else 1,
                             f"policy slo: alert_windows: {pattern!r} matches no file"))
        for p in paths:
            shown = p.relative_to(repo).as_posix() if p.is_relative_to(repo) else str(p)
            try:
                docs = [d for d in yamlpos.load_all(p, shown) if d is not None]
            except yamlpos.LoadError as e:
                out.append(error(WINDOWS_CHECK, shown, e.line, e.message))
                continue
            if not docs:
                out.append(error(WINDOWS_CHECK, shown, 1, "empty AlertWindows file"))
            for doc in docs:
                ws, errs = parse_alert_windows(doc, shown)
                out.extend(errs)
                if ws is None:
                    continue
                prev = found.get(ws.period_ms)
                if prev is not None and prev[0] != ws:
                    # Sloth: `"<period>" slo period is already loaded` (identical ones are fine).
                    out.append(error(WINDOWS_CHECK, shown, yamlpos.line_of(doc),
                                     f"{prom_duration(ws.period_ms)} slo period is already "
                                     f"loaded from {prev[1]} with other windows"))
                    continue
                found[ws.period_ms] = (ws, shown)
    st.windows = {p: w for p, (w, _) in found.items()}
    st.windows_origin = "alert_windows"


def _load_alerts(node: Any, section: dict, st: Settings, bad: Any) -> None:
    if not isinstance(node, dict):
        bad(section, "openslo_alerts", "openslo_alerts must be a mapping (page, ticket, "
            "name_suffix)")
        return
    for k in node:
        if k not in ("page", "ticket", "name_suffix"):
            bad(node, str(k), f"openslo_alerts: unknown key {k!r} (expected page, ticket, "
                "name_suffix)")
    suffix = node.get("name_suffix")
    if suffix is not None:
        if not isinstance(suffix, str) or "\n" in suffix:
            bad(node, "name_suffix", "openslo_alerts: name_suffix must be a one-line string")
        else:
            st.name_suffix = suffix
    for sev in ("page", "ticket"):
        sub = node.get(sev)
        if sub is None:
            continue
        where = f"openslo_alerts: {sev}: "
        if not isinstance(sub, dict):
            bad(node, sev, f"{where}must be a mapping")
            continue
        d = AlertDefault()
        for k in sub:
            if k not in _ALERT_KEYS:
                bad(sub, str(k), f"{where}unknown key {k!r} (expected one of: "
                    f"{', '.join(sorted(_ALERT_KEYS))})")
        if not isinstance(sub.get("disable", False), bool):
            bad(sub, "disable", f"{where}disable must be true or false")
        else:
            d.disable = sub.get("disable", False)
        if sub.get("for") is not None:
            try:
                parse_duration(str(sub["for"]))
                d.for_ = str(sub["for"])
            except ValueError as e:
                bad(sub, "for", f"{where}invalid for: {e}")
        for key in ("labels", "annotations"):
            m = sub.get(key)
            if m is None:
                continue
            if not isinstance(m, dict) or not all(isinstance(v, (str, int, float)) for v in m.values()):
                bad(sub, key, f"{where}{key} must map names to strings")
                continue
            setattr(d, key, {str(k): ("true" if v is True else "false" if v is False else str(v))
                             for k, v in m.items()})
        setattr(st, sev, d)
