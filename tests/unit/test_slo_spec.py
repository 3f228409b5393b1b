"""SLO spec loading and validation: good specs load, each bad spec gives located, chained errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import repo_with
from moncheck import slo
from moncheck.slo.spec import load_file

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests/fixtures/slo"


# (file, [(check, line, message fragment)]) - every error of the file, in line order.
BAD = [
    ("objective-out-of-range.yml", [("slo/spec", 5, 'invalid slo "availability": objective 120 '
                                     "must be in (0, 100]")]),
    ("page-alert-no-name.yml", [("slo/spec", 11, 'invalid slo "availability": invalid alert: '
                                 "page alert: name is required")]),
    ("missing-window.yml", [("slo/query", 8, "error_query lacks the window placeholder")]),
    ("same-queries.yml", [("slo/query", 9, "error_query and total_query are the same query")]),
    ("invalid-promql.yml", [("slo/query", 8, "not valid PromQL once the window is filled: "
                             "unclosed left parenthesis")]),
    ("unknown-metric.yml", [("slo/catalog", 8, "metric http_requests_failed_total is not in the "
                             "catalog"),
                            ("slo/catalog", 9, "http_requests_total has no label 'code'")]),
    ("latency-not-a-bucket.yml", [("slo/bucket", 9, 'latency threshold le="2" is not a bucket '
                                   "bound of http_request_duration_seconds (buckets: 0.1, 0.3, "
                                   "0.5, 0.7, 1, 3, 5, 7, 10)")]),
    ("plugin-sli.yml", [("slo/spec", 7, "SLI plugins are not supported")]),
    ("invalid-names.yml", [("slo/spec", 2, 'invalid service "my svc"'),
                           ("slo/spec", 4, 'invalid slo "availability!": invalid name'),
                           ("slo/spec", 11, "page alert: invalid name 'Svc\\nAvailability'"),
                           ("slo/spec", 11, "ticket alert: invalid name 'Svc\\nAvailability'")]),
    ("malformed.yml", [("slo/spec", 6, "invalid YAML")]),
    ("many-errors.yml", [("slo/spec", 5, 'invalid slo "first": objective 0 must be in (0, 100]'),
                         ("slo/spec", 8, 'invalid slo "first": invalid SLI: events: total_query '
                          "is required"),
                         ("slo/spec", 11, 'invalid slo "second": invalid alert: page alert: '
                          "name is required"),
                         ("slo/spec", 11, "ticket alert: name is required"),
                         ("slo/spec", 17, "unknown field 'alertin'")]),
    ("openslo-no-total.yml", [("slo/spec", 12, "ratioMetric needs total and exactly one of good "
                               "or bad")]),
    ("openslo-calendar-timeslices.yml", [
        ("slo/spec", 27, 'invalid slo "uptime": calendar-aligned time windows (isRolling: false) '
                         "are not supported"),
        ("slo/spec", 28, "invalid slo \"uptime\": budgetingMethod 'Timeslices' is not supported")]),
]


@pytest.mark.parametrize(("name", "expected"), BAD, ids=[b[0].removesuffix(".yml") for b in BAD])
def test_bad_spec_reports_every_error_located(tmp_path: Path, name: str,
                                              expected: list[tuple[str, int, str]]) -> None:
    repo = repo_with(tmp_path, FIX / "bad" / name)
    findings = sorted(slo.validate(repo))
    got = [(f.check, f.line) for f in findings]
    assert got == [(c, ln) for c, ln, _ in expected], [f.text() for f in findings]
    for f, (_, _, fragment) in zip(findings, expected):
        assert f.path == f"monitoring/slos/{name}"
        assert fragment in f.message, f.text()


@pytest.mark.parametrize("name", sorted(p.name for p in (FIX / "good").glob("*.yml")))
def test_good_specs_are_valid(tmp_path: Path, name: str) -> None:
    assert slo.validate(repo_with(tmp_path, FIX / "good" / name)) == []


def test_project_specs_are_valid() -> None:
    assert slo.validate(ROOT) == []


def test_ids_and_alert_names_unique_across_files(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, FIX / "good/api.yml")
    shutil.copy(FIX / "good/api.yml", repo / "monitoring/slos/zz-copy.yml")
    msgs = [f.text() for f in slo.validate(repo) if f.check == "slo/unique"]
    assert any('SLO id "svc-availability" is already defined at monitoring/slos/api.yml:6' in m
               for m in msgs), msgs
    # The same alert name on several SLOs is allowed, as in Sloth: a warning, one runbook.
    assert any("warning: slo/unique" in m and "alert name SvcLatencyBurn is also used" in m
               for m in msgs), msgs


def test_missing_catalog_is_one_located_error(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, FIX / "good/api.yml")
    (repo / "monitoring/catalog/metrics.yml").unlink()
    findings = slo.validate(repo)
    assert [(f.check, f.path) for f in findings] == [("slo/catalog",
                                                      "monitoring/catalog/metrics.yml")]


def test_sloth_spec_model() -> None:
    spec, errs = load_file(FIX / "sloth/getting-started.yml", "gs.yml")
    assert errs == []
    (s,) = spec.slos
    assert (s.id, s.objective, s.period_ms) == ("myservice-requests-availability", 99.9,
                                                30 * 86_400_000)
    assert s.page is not None and s.ticket is not None
    assert s.page.labels == {"category": "availability", "severity": "pageteam",
                             "routing_key": "myteam"}
    assert s.ticket.annotations["summary"] == "High error rate on 'myservice' requests responses"


def test_openslo_converts_like_sloth() -> None:
    spec, errs = load_file(FIX / "good/openslo.yml", "o.yml")
    assert errs == []
    bad, good = spec.slos
    assert (bad.name, bad.period_ms, bad.objective) == ("uptime-0", 28 * 86_400_000, 99.5)
    assert bad.error_query and "result=\"failure\"" in bad.error_query
    assert good.error_ratio_query is not None and good.error_ratio_query.startswith("\n  1 - (")
    assert (good.mode, good.spec_version) == ("cli-gen-openslo", "openslo/v1")
    # No alertPolicies: the policy's default page and ticket alerts (built-in: both enabled,
    # no `for`, named after the SLO), on the period's windows.
    assert good.page is not None and good.ticket is not None
    assert (good.page.name, good.page.disable, good.page.for_, good.ticket.name) == (
        "SvcAvailabilityGood0ErrorBudgetBurn", False, None, "SvcAvailabilityGood0ErrorBudgetBurn")
    assert good.windows is not None and good.windows.period_ms == 7 * 86_400_000


def _spec(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.yml"
    p.write_text(text)
    return repo_with(tmp_path / "repo", p)


def test_objective_100_is_a_located_warning_and_generates(tmp_path: Path) -> None:
    text = (FIX / "good/api.yml").read_text().replace("objective: 99.9", "objective: 100")
    repo = _spec(tmp_path, text)
    plan = slo.plan(repo)
    assert plan.ok
    (w,) = [f for f in plan.findings if "no error budget" in f.message]
    assert (w.check, w.path, w.line, w.severity.value) == ("slo/spec", "monitoring/slos/spec.yml",
                                                           7, "warning")
    rules = plan.files[Path("monitoring/prometheus/rules/slo/svc-availability.yml")]
    assert "(14.4 * 0))" in rules and "vector(1-1)" in rules


def test_sloth_window_in_annotations_is_a_located_warning(tmp_path: Path) -> None:
    text = (FIX / "good/api.yml").read_text().replace("{{$labels.sloth_slo}}",
                                                      "{{ $labels.sloth_window }}")
    findings = slo.validate(_spec(tmp_path, text))
    assert [(f.check, f.line, f.severity.value) for f in findings] == [
        ("slo/spec", 21, "warning"), ("slo/spec", 25, "warning")]
    assert "annotation 'description' uses {{$labels.sloth_window}}, which expands to an " \
           "empty string" in findings[0].message
