"""Prometheus metric objects built from the catalog, with label checks against it.

The service exposes exactly the catalog's ``service`` and ``process`` metrics: the objects are
created from the catalog entries (name, type, help, labels, buckets), the default process/python
collectors are filtered to the cataloged names, and every ``labels()`` call is checked against
the cataloged label names and closed value sets so a bug cannot leak an uncataloged series.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, Summary
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from .catalog import CatalogError, MetricSpec

# What the service's code feeds: exposed name -> (type, label names). Checked against the catalog
# at start-up so a renamed metric or label fails loudly instead of silently drifting.
REQUIRED: dict[str, tuple[str, frozenset[str]]] = {
    "http_requests_total": ("counter", frozenset({"method", "route", "status_code"})),
    "http_request_duration_seconds": ("histogram", frozenset({"method", "route", "status_code"})),
    "http_active_connections": ("gauge", frozenset()),
    "database_query_duration_seconds": ("histogram", frozenset({"query_type", "table"})),
    "database_connection_errors_total": ("counter", frozenset({"error_type"})),
    "user_actions_total": ("counter", frozenset({"action_type", "feature"})),
    "feature_usage_total": ("counter", frozenset({"feature_name", "user_type"})),
    "user_session_duration_seconds": ("histogram", frozenset({"user_type"})),
    "uptime_check_duration_seconds": ("histogram", frozenset({"check", "result"})),
    "web_vitals_reports_total": ("counter", frozenset({"metric", "rating", "page_template"})),
    "web_vitals_value": ("histogram", frozenset({"metric", "page_template"})),
    "page_load_duration_seconds": ("histogram", frozenset({"phase", "page_template"})),
    "slow_renders_total": ("counter", frozenset({"component", "phase"})),
    "frontend_log_entries_total": ("counter", frozenset({"level"})),
    "health_check_status": ("gauge", frozenset({"component"})),
}


class CatalogMetric:
    """A prometheus_client metric plus its catalog entry; ``labels()`` validates values."""

    def __init__(self, spec: MetricSpec, obj: Any) -> None:
        self.spec = spec
        self.obj = obj

    def labels(self, **values: str) -> Any:
        if set(values) != set(self.spec.labels):
            raise ValueError(f"{self.spec.name}: labels {sorted(values)} != catalog {sorted(self.spec.labels)}")
        for name, value in values.items():
            if not self.spec.labels[name].accepts(value):
                raise ValueError(f"{self.spec.name}: label {name}={value!r} is not allowed by the catalog")
        return self.obj.labels(**values)

    def single(self) -> Any:
        """The metric itself, for unlabelled metrics."""
        return self.obj


def _exposed_family_name(family: Metric) -> str:
    # prometheus_client names a counter family without `_total`; the catalog uses exposed names.
    if family.type == "counter":
        return family.name + "_total"
    if family.type == "info":
        return family.name + "_info"
    return family.name


class _FilteredCollector(Collector):
    """Yields only the families of ``inner`` whose exposed name is cataloged."""

    def __init__(self, inner: Collector, allowed: frozenset[str]) -> None:
        self.inner = inner
        self.allowed = allowed

    def collect(self) -> Iterable[Metric]:
        for family in self.inner.collect():
            if _exposed_family_name(family) in self.allowed:
                yield family


def _create(spec: MetricSpec, registry: CollectorRegistry) -> Any:
    labels = list(spec.labels)
    kw: dict[str, Any] = {"labelnames": labels, "registry": registry}
    if spec.type == "counter":
        return Counter(spec.name, spec.help, **kw)
    if spec.type == "gauge":
        return Gauge(spec.name, spec.help, **kw)
    if spec.type == "histogram":
        return Histogram(spec.name, spec.help, buckets=spec.buckets or Histogram.DEFAULT_BUCKETS, **kw)
    if spec.type == "summary":
        return Summary(spec.name, spec.help, **kw)
    return Info(spec.name.removesuffix("_info"), spec.help, **kw)


class ServiceMetrics:
    """The registry the service exposes on /metrics, built from the catalog."""

    def __init__(self, specs: list[MetricSpec], catalog_path: str) -> None:
        prometheus_client.disable_created_metrics()  # `_created` series are not in the contract
        self.registry = CollectorRegistry(auto_describe=True)
        self.by_name: dict[str, CatalogMetric] = {}
        own = [s for s in specs if s.source == "service"]
        self._check_required(own, catalog_path)
        for spec in own:
            try:
                self.by_name[spec.name] = CatalogMetric(spec, _create(spec, self.registry))
            except ValueError as e:
                raise CatalogError(f"{catalog_path}:{spec.line}: metric {spec.name!r}: {e}") from None
        unused = sorted(set(self.by_name) - set(REQUIRED))
        for name in unused:
            print(f"moncheck.service: warning: catalog metric {name} has no producer here", file=sys.stderr)
        process = frozenset(s.name for s in specs if s.source == "process")
        scratch = CollectorRegistry()  # GCCollector insists on registering somewhere
        for inner in (
            prometheus_client.ProcessCollector(registry=scratch),
            prometheus_client.PlatformCollector(registry=scratch),
            prometheus_client.GCCollector(registry=scratch),
        ):
            self.registry.register(_FilteredCollector(inner, process))

    @staticmethod
    def _check_required(own: list[MetricSpec], catalog_path: str) -> None:
        found = {s.name: s for s in own}
        problems: list[str] = []
        for name, (mtype, labels) in REQUIRED.items():
            spec = found.get(name)
            if spec is None:
                problems.append(f"{catalog_path}:1: metric {name!r} (source: service) is missing; the service produces it")
            elif spec.type != mtype or set(spec.labels) != labels:
                problems.append(
                    f"{catalog_path}:{spec.line}: metric {name!r}: the service produces a {mtype} with labels "
                    f"{sorted(labels)}, the catalog says {spec.type} with {sorted(spec.labels)}"
                )
        if problems:
            raise CatalogError("\n".join(problems))

    def __getitem__(self, name: str) -> CatalogMetric:
        return self.by_name[name]

    def exposition(self, openmetrics: bool = False) -> bytes:
        """Prometheus text format, or OpenMetrics (the only one that carries exemplars)."""
        if openmetrics:
            from prometheus_client.openmetrics import exposition as om
            return om.generate_latest(self.registry)
        return prometheus_client.generate_latest(self.registry)
