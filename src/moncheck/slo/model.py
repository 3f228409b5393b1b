"""The internal SLO model both spec formats (Sloth prometheus/v1, OpenSLO v1) convert to."""

from __future__ import annotations

from dataclasses import dataclass, field

from moncheck.slo.windows import Windows


@dataclass
class AlertMeta:
    """One of the two generated alerts (page or ticket); labels/annotations already merged."""

    name: str
    disable: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    for_: str | None = None  # `for:` (Sloth's alert_for plugin; native here)
    line: int = 1


@dataclass
class SLO:
    """One SLO. ``objective`` is a percentage in (0, 100]; ``period_ms`` the SLO period."""

    service: str
    name: str
    objective: float
    period_ms: int
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    error_query: str | None = None  # events SLI
    total_query: str | None = None
    error_ratio_query: str | None = None  # raw SLI
    page: AlertMeta | None = None
    ticket: AlertMeta | None = None
    spec_version: str = "prometheus/v1"
    mode: str = "cli-gen-prom"
    path: str = ""
    line: int = 1
    lines: dict[str, int] = field(default_factory=dict)  # e.g. "error_query" -> line
    # The alert windows (the period's, or an OpenSLO alert policy's); None: the built-in ones.
    windows: Windows | None = None
    # Extra labels per metadata record (Sloth's info_labels SLO plugin), merged last.
    meta_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    def id_labels(self) -> dict[str, str]:
        return {"sloth_id": self.id, "sloth_service": self.service, "sloth_slo": self.name}


@dataclass
class SpecFile:
    """A loaded spec file: its SLOs in file order."""

    path: str  # as displayed (relative to the repository)
    stem: str
    slos: list[SLO] = field(default_factory=list)
