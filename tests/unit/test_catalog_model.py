"""The one catalog model (``moncheck.catalog``) and its readers: checks (inventory), the reference
service, the SLO code and the smoke checks all get the same objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck import catalog, yamlpos
from moncheck.inventory import load_repo
from moncheck.service import catalog as service_catalog
from moncheck.slo import catalog as slo_catalog
from moncheck.smoke import repo as smoke_repo

ROOT = Path(__file__).resolve().parents[2]
TEXT = """\
metrics:
  - name: http_requests_total
    type: counter
    source: service
    labels:
      method: {values: [GET, POST]}
      status_code: {pattern: "^[1-5][0-9][0-9]$", bound: 60}
  - name: http_request_duration_seconds
    type: histogram
    source: service
    buckets: [0.1, 1]
    labels: {route: {bound: 40}}
  - name: rpc_seconds
    type: summary
    source: process
    labels: {}
"""


@pytest.fixture
def cat() -> catalog.Catalog:
    return catalog.parse_catalog("metrics.yml", yamlpos.loads(TEXT, "metrics.yml"))


RESOLVE = [
    ("counter", "http_requests_total", "http_requests_total", "", {"method", "status_code", "job", "instance"}),
    ("histogram-bucket", "http_request_duration_seconds_bucket", "http_request_duration_seconds", "_bucket",
     {"route", "le", "job", "instance"}),
    ("histogram-count", "http_request_duration_seconds_count", "http_request_duration_seconds", "_count",
     {"route", "job", "instance"}),
    ("summary-quantile", "rpc_seconds", "rpc_seconds", "", {"quantile", "job", "instance"}),
    ("summary-has-no-bucket", "rpc_seconds_bucket", None, "", None),
    ("unknown", "nope_total", None, "", None),
]


@pytest.mark.parametrize(("series", "metric", "suffix", "labels"), [c[1:] for c in RESOLVE], ids=[c[0] for c in RESOLVE])
def test_resolve_and_labels(cat: catalog.Catalog, series: str, metric: str | None, suffix: str, labels: set | None) -> None:
    m, s = cat.resolve(series)
    assert (m.name if m else None, s) == (metric, suffix)
    assert cat.labels_of(series) == labels


def test_values_patterns_buckets_and_sources(cat: catalog.Catalog) -> None:
    req = cat.metrics["http_requests_total"]
    assert req.labels["method"].accepts("GET") and not req.labels["method"].accepts("PUT")
    assert req.labels["status_code"].accepts("503") and not req.labels["status_code"].accepts("5xx")
    assert cat.label_values == {("http_requests_total", "method"): ["GET", "POST"]}
    assert cat.metrics["http_request_duration_seconds"].buckets == (0.1, 1.0)
    assert [m.name for m in cat.by_source("service")] == ["http_requests_total", "http_request_duration_seconds"]
    assert cat.series["http_request_duration_seconds_bucket"][1] == "bucket"


PROBLEMS = [
    ("unknown-type", "metrics:\n  - {name: a, type: counterr}\n", (2, "metric 'a': type must be one of")),
    ("descending-buckets", "metrics:\n  - {name: h, type: histogram, buckets: [1, 0.1]}\n", (2, "'buckets' must be ascending")),
    ("no-buckets", "metrics:\n  - {name: h, type: histogram}\n", (2, "'buckets' must be a list of numbers")),
    ("bad-pattern", "metrics:\n  - name: a\n    type: gauge\n    labels:\n      x: {pattern: '('}\n", (5, "bad pattern")),
    ("no-name", "metrics:\n  - {type: gauge}\n", (2, "metric without a 'name'")),
]


@pytest.mark.parametrize(("text", "want"), [c[1:] for c in PROBLEMS], ids=[c[0] for c in PROBLEMS])
def test_problems_are_located(text: str, want: tuple[int, str]) -> None:
    (got,) = catalog.problems(catalog.parse_catalog("m.yml", yamlpos.loads(text, "m.yml")))
    assert got[0] == want[0] and want[1] in got[1]


def test_every_reader_gets_the_one_model(tmp_path: Path) -> None:
    (tmp_path / "monitoring/catalog").mkdir(parents=True)
    (tmp_path / "monitoring/catalog/metrics.yml").write_text(TEXT)
    inv = load_repo(tmp_path)
    assert isinstance(inv.catalog, catalog.Catalog)
    assert isinstance(slo_catalog.load(tmp_path), catalog.Catalog)
    specs = service_catalog.load(tmp_path / "monitoring/catalog/metrics.yml")
    assert all(isinstance(s, catalog.CatalogMetric) for s in specs) and len(specs) == 3
    assert smoke_repo.service_metrics(tmp_path) == {"http_requests_total": "counter",
                                                    "http_request_duration_seconds": "histogram"}


def test_the_service_refuses_a_catalog_with_problems_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.yml"
    path.write_text("metrics:\n  - {name: ok, type: gauge}\n  - {name: h, type: histogram, buckets: [2, 1]}\n")
    with pytest.raises(service_catalog.CatalogError, match=r"^metrics.yml:3: histogram 'h': 'buckets' must be ascending$"):
        service_catalog.load(path, "metrics.yml")


def test_this_repositorys_catalog_has_no_problems() -> None:
    assert catalog.problems(catalog.load(ROOT / "monitoring/catalog/metrics.yml")) == []
