"""The metrics catalog for the SLO validator and generator: the one catalog model
(``moncheck.catalog``: names, labels, label values, histogram buckets)."""

from __future__ import annotations

from pathlib import Path

from moncheck.catalog import TARGET_LABELS, Catalog
from moncheck.catalog import CatalogMetric as Metric
from moncheck.catalog import load as _load

CATALOG = Path("monitoring/catalog/metrics.yml")

__all__ = ["CATALOG", "TARGET_LABELS", "Catalog", "Metric", "load"]


def load(repo: Path) -> Catalog:
    """Load ``monitoring/catalog/metrics.yml``; raises ``yamlpos.LoadError`` when unusable."""
    return _load(repo / CATALOG, str(CATALOG))
