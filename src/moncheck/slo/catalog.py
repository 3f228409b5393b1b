"""The metrics catalog as the SLO validator needs it: names, labels and histogram buckets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from moncheck import yamlpos

CATALOG = Path("monitoring/catalog/metrics.yml")
TARGET_LABELS = {"job", "instance"}


@dataclass
class Metric:
    name: str
    type: str
    labels: set[str] = field(default_factory=set)
    buckets: list[float] = field(default_factory=list)


@dataclass
class Catalog:
    metrics: dict[str, Metric]
    label_values: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def resolve(self, series: str) -> tuple[Metric | None, str]:
        """The cataloged metric behind an exposed series name, and the suffix used."""
        if series in self.metrics:
            return self.metrics[series], ""
        for suffix in ("_bucket", "_count", "_sum"):
            if series.endswith(suffix):
                m = self.metrics.get(series[: -len(suffix)])
                if m and (m.type == "histogram" or (m.type == "summary" and suffix != "_bucket")):
                    return m, suffix
        return None, ""

    def labels_of(self, series: str) -> set[str] | None:
        m, suffix = self.resolve(series)
        if m is None:
            return None
        extra = {"le"} if suffix == "_bucket" else set()
        if m.type == "summary" and not suffix:
            extra = {"quantile"}
        return m.labels | TARGET_LABELS | extra


def load(repo: Path) -> Catalog:
    """Load ``monitoring/catalog/metrics.yml``; raises ``yamlpos.LoadError`` when unusable."""
    data = yamlpos.load(repo / CATALOG, str(CATALOG))
    rows = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise yamlpos.LoadError(str(CATALOG), yamlpos.line_of(data), "expected a `metrics` list")
    metrics: dict[str, Metric] = {}
    values: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            continue
        labels = row.get("labels") or {}
        buckets = [float(b) for b in yamlpos.as_list(row.get("buckets"))
                   if isinstance(b, (int, float)) and not isinstance(b, bool)]
        metrics[row["name"]] = Metric(row["name"], str(row.get("type", "")),
                                      set(labels) if isinstance(labels, dict) else set(), buckets)
        for lname, lspec in (labels.items() if isinstance(labels, dict) else []):
            if isinstance(lspec, dict) and isinstance(lspec.get("values"), list):
                values[(row["name"], str(lname))] = [str(v) for v in lspec["values"]]
    return Catalog(metrics, values)
