"""The metrics catalog (``monitoring/catalog/metrics.yml``): the one model the checks, the reference
service, the SLO validator and generator, drills and smoke checks read.

Parsing is lenient (entries that are not mappings with a ``name`` are left to ``schema/catalog``);
``problems`` lists what makes a catalog unusable for exposing metrics (the reference service refuses
to start on those).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from moncheck import yamlpos
from moncheck.yamlpos import LoadError, line_of

TYPES = ("counter", "gauge", "histogram", "summary", "info")
TARGET_LABELS = frozenset({"job", "instance"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
SUMMARY_SUFFIXES = ("_sum", "_count")


@dataclass
class CatalogLabel:
    name: str
    line: int
    values: list[str] | None
    bound: int | None
    pattern: str | None

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        """The compiled ``pattern`` (``re.error`` when it is not a regex: see ``problems``)."""
        return re.compile(self.pattern) if self.pattern is not None else None

    def accepts(self, value: str) -> bool:
        """Is ``value`` allowed: in the closed set (if any) and matching the pattern (if any)?"""
        if self.values is not None and value not in self.values:
            return False
        return self.regex is None or bool(self.regex.search(value))


@dataclass
class CatalogMetric:
    name: str
    type: str
    line: int
    labels: dict[str, CatalogLabel]
    raw: Any = None
    help: str = ""
    source: str = ""
    buckets: tuple[float, ...] | None = None  # histograms


@dataclass
class Catalog:
    path: str
    data: Any
    metrics: dict[str, CatalogMetric] = field(default_factory=dict)
    series: dict[str, tuple[CatalogMetric, str]] = field(default_factory=dict)
    """Exposed series name -> (metric, series kind: counter/gauge/bucket/sum/count/quantile...)."""

    def resolve(self, series: str) -> tuple[CatalogMetric | None, str]:
        """The cataloged metric behind a series name (a metric's own name, or a histogram's or
        summary's ``_bucket``/``_sum``/``_count``), and the suffix used."""
        if series in self.metrics:
            return self.metrics[series], ""
        for suffix in HISTOGRAM_SUFFIXES:
            if series.endswith(suffix):
                m = self.metrics.get(series[: -len(suffix)])
                if m and (m.type == "histogram" or (m.type == "summary" and suffix != "_bucket")):
                    return m, suffix
        return None, ""

    def labels_of(self, series: str) -> set[str] | None:
        """Label names a series carries (with ``job``/``instance``, ``le``, ``quantile``)."""
        m, suffix = self.resolve(series)
        if m is None:
            return None
        extra = {"le"} if suffix == "_bucket" else set()
        if m.type == "summary" and not suffix:
            extra = {"quantile"}
        return set(m.labels) | TARGET_LABELS | extra

    @property
    def label_values(self) -> dict[tuple[str, str], list[str]]:
        """(metric, label) -> the closed set of values, for labels that have one."""
        return {(m.name, lab.name): list(lab.values) for m in self.metrics.values()
                for lab in m.labels.values() if lab.values is not None}

    def by_source(self, *sources: str) -> list[CatalogMetric]:
        return [m for m in self.metrics.values() if m.source in sources]


def _buckets(value: Any) -> tuple[float, ...] | None:
    if not isinstance(value, list) or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in value):
        return None
    return tuple(float(b) for b in value)


def parse_catalog(rel: str, data: Any) -> Catalog:
    """The model of a loaded catalog file (lenient: shape errors are ``schema/catalog``'s)."""
    cat = Catalog(rel, data)
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(metrics, list):
        return cat
    for m in metrics:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            continue
        labels: dict[str, CatalogLabel] = {}
        lab = m.get("labels")
        if isinstance(lab, dict):
            for k, v in lab.items():
                v = v if isinstance(v, dict) else {}
                vals = v.get("values")
                labels[str(k)] = CatalogLabel(
                    str(k),
                    line_of(lab, k),
                    [str(x) for x in vals] if isinstance(vals, list) else None,
                    v.get("bound") if isinstance(v.get("bound"), int) else None,
                    v.get("pattern") if isinstance(v.get("pattern"), str) else None,
                )
        cm = CatalogMetric(m["name"], str(m.get("type", "")), line_of(m), labels, m, str(m.get("help", "")),
                           str(m.get("source", "")), _buckets(m.get("buckets")) if m.get("type") == "histogram" else None)
        cat.metrics[cm.name] = cm
        if cm.type == "histogram":
            for s in HISTOGRAM_SUFFIXES:
                cat.series[cm.name + s] = (cm, s[1:])
        elif cm.type == "summary":
            cat.series[cm.name] = (cm, "quantile")
            for s in SUMMARY_SUFFIXES:
                cat.series[cm.name + s] = (cm, s[1:])
        else:
            cat.series[cm.name] = (cm, cm.type)
    return cat


def load(path: Path, display: str | None = None) -> Catalog:
    """Load and parse a catalog file; ``LoadError`` when it cannot be read or has no metrics list."""
    shown = display or str(path)
    data = yamlpos.load(path, shown)
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), list):
        raise LoadError(shown, line_of(data), "expected a mapping with a `metrics` list")
    return parse_catalog(shown, data)


def problems(cat: Catalog) -> list[tuple[int, str]]:
    """(line, message) of every entry that cannot be exposed as a metric: entries that are not
    named mappings, unknown types, labels that are not mappings, bad patterns, histograms without
    ascending numeric buckets."""
    out: list[tuple[int, str]] = []
    rows = cat.data.get("metrics") if isinstance(cat.data, dict) else None
    for row in rows if isinstance(rows, list) else []:
        line = line_of(row, default=line_of(rows))
        if not isinstance(row, dict):
            out.append((line, "metric entry must be a mapping"))
            continue
        name = row.get("name")
        if not isinstance(name, str) or not name:
            out.append((line, "metric without a 'name'"))
            continue
        if row.get("type") not in TYPES:
            out.append((line, f"metric {name!r}: type must be one of {', '.join(TYPES)}"))
        labels = row.get("labels") or {}
        if not isinstance(labels, dict):
            out.append((line, f"metric {name!r}: 'labels' must be a mapping"))
            labels = {}
        for lname, spec in labels.items():
            at = line_of(labels, lname, line)
            if not isinstance(spec, dict):
                out.append((at, f"metric {name!r} label {lname!r}: expected a mapping"))
                continue
            try:
                if isinstance(spec.get("pattern"), str):
                    re.compile(spec["pattern"])
            except re.error as e:
                out.append((at, f"metric {name!r} label {lname!r}: bad pattern: {e}"))
        if row.get("type") == "histogram":
            buckets = _buckets(row.get("buckets"))
            if not buckets:
                out.append((line, f"histogram {name!r}: 'buckets' must be a list of numbers"))
            elif sorted(buckets) != list(buckets):
                out.append((line, f"histogram {name!r}: 'buckets' must be ascending"))
    return out
