"""The part of the metrics catalog the reference service needs, on the one catalog model
(``moncheck.catalog``): names, types, help, labels (with ``accepts``), buckets. The service refuses
a catalog with ``catalog.problems`` (it could not expose those metrics faithfully)."""

from __future__ import annotations

from pathlib import Path

from moncheck import catalog, yamlpos
from moncheck.catalog import TYPES, CatalogLabel, CatalogMetric

Label = CatalogLabel
MetricSpec = CatalogMetric
SERVICE_SOURCES = ("service", "process")

__all__ = ["SERVICE_SOURCES", "TYPES", "CatalogError", "Label", "MetricSpec", "load"]


class CatalogError(Exception):
    """A catalog that cannot be used; the message starts with ``path:line:``."""


def load(path: Path, display: str | None = None) -> list[MetricSpec]:
    """All metrics of the catalog at ``path``; raises CatalogError naming file and line."""
    shown = display or str(path)
    try:
        cat = catalog.load(path, shown)
    except yamlpos.LoadError as e:
        raise CatalogError(str(e)) from None
    bad = catalog.problems(cat)
    if bad:
        line, message = bad[0]
        raise CatalogError(f"{shown}:{line}: {message}")
    return list(cat.metrics.values())
