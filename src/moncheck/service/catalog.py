"""The part of the metrics catalog the reference service needs: names, types, help, labels, buckets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from moncheck import yamlpos

TYPES = ("counter", "gauge", "histogram", "summary", "info")
SERVICE_SOURCES = ("service", "process")


class CatalogError(Exception):
    """A catalog that cannot be used; the message starts with ``path:line:``."""


@dataclass(frozen=True)
class Label:
    name: str
    values: frozenset[str] | None
    pattern: re.Pattern[str] | None

    def accepts(self, value: str) -> bool:
        if self.values is not None and value not in self.values:
            return False
        return self.pattern is None or bool(self.pattern.search(value))


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: str
    help: str
    source: str
    line: int
    labels: dict[str, Label] = field(default_factory=dict)
    buckets: tuple[float, ...] | None = None


def load(path: Path, display: str | None = None) -> list[MetricSpec]:
    """All metrics of the catalog at ``path``; raises CatalogError naming file and line."""
    shown = display or str(path)
    try:
        doc = yamlpos.load(path, shown)
    except yamlpos.LoadError as e:
        raise CatalogError(str(e)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), list):
        raise CatalogError(f"{shown}:1: expected a mapping with a 'metrics' list")
    specs: list[MetricSpec] = []
    for item in doc["metrics"]:
        specs.append(_metric(item, shown, yamlpos.line_of(doc["metrics"])))
    return specs


def _metric(item: object, shown: str, default_line: int) -> MetricSpec:
    line = yamlpos.line_of(item, default=default_line)
    if not isinstance(item, dict):
        raise CatalogError(f"{shown}:{line}: metric entry must be a mapping")
    name, mtype, help_ = item.get("name"), item.get("type"), item.get("help", "")
    if not isinstance(name, str) or not name:
        raise CatalogError(f"{shown}:{line}: metric without a 'name'")
    if mtype not in TYPES:
        raise CatalogError(f"{shown}:{line}: metric {name!r}: type must be one of {', '.join(TYPES)}")
    labels_node = item.get("labels") or {}
    if not isinstance(labels_node, dict):
        raise CatalogError(f"{shown}:{line}: metric {name!r}: 'labels' must be a mapping")
    labels = {
        lname: _label(name, lname, lspec, shown, yamlpos.line_of(labels_node, lname, line))
        for lname, lspec in labels_node.items()
    }
    buckets = item.get("buckets")
    if mtype == "histogram":
        if not isinstance(buckets, list) or not buckets or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in buckets
        ):
            raise CatalogError(f"{shown}:{line}: histogram {name!r}: 'buckets' must be a list of numbers")
        if sorted(buckets) != list(buckets):
            raise CatalogError(f"{shown}:{line}: histogram {name!r}: 'buckets' must be ascending")
    return MetricSpec(
        name=name,
        type=mtype,
        help=str(help_),
        source=str(item.get("source", "")),
        line=line,
        labels=labels,
        buckets=tuple(float(b) for b in buckets or ()) if mtype == "histogram" else None,
    )


def _label(metric: str, name: str, spec: object, shown: str, line: int) -> Label:
    if not isinstance(spec, dict):
        raise CatalogError(f"{shown}:{line}: metric {metric!r} label {name!r}: expected a mapping")
    values = spec.get("values")
    pattern = spec.get("pattern")
    try:
        compiled = re.compile(pattern) if isinstance(pattern, str) else None
    except re.error as e:
        raise CatalogError(f"{shown}:{line}: metric {metric!r} label {name!r}: bad pattern: {e}") from None
    return Label(
        name=name,
        values=frozenset(str(v) for v in values) if isinstance(values, list) else None,
        pattern=compiled,
    )
