"""Property tests of SLO generation over generated specs (Hypothesis).

- every valid spec generates rules that ``promtool check rules`` accepts and tests that
  ``promtool test rules`` passes (many specs per promtool call, so the suite stays fast);
- every invalid spec, and any text at all, gets located errors and no traceback.

``MONCHECK_HYPOTHESIS_EXAMPLES`` raises the number of examples (the notes' figures use 25).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import repo_with
from moncheck import slo
from moncheck.findings import Severity
from moncheck.slo.spec import load_file

EXAMPLES = int(os.environ.get("MONCHECK_HYPOTHESIS_EXAMPLES", "2"))
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool missing")


def _settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

# SLIs over metrics of the project catalog (monitoring/catalog/metrics.yml).
_SLIS = [
    {"events": {
        "error_query": 'sum(rate(http_requests_total{job="svc",status_code=~"5.."}[{{.window}}]))',
        "total_query": 'sum(rate(http_requests_total{job="svc"}[{{.window}}]))'}},
    {"events": {
        "error_query": "sum(rate(uptime_check_duration_seconds_count{check=\"api_health\","
                       "result=\"failure\"}[{{ .window }}]))",
        "total_query": 'sum(rate(uptime_check_duration_seconds_count{check="api_health"}'
                       "[{{ .window }}]))"}},
    {"events": {
        "error_query": "sum(rate(http_request_duration_seconds_count{job=\"svc\"}[{{.window}}]))"
                       " - sum(rate(http_request_duration_seconds_bucket{job=\"svc\",le=\"0.5\"}"
                       "[{{.window}}]))",
        "total_query": 'sum(rate(http_request_duration_seconds_count{job="svc"}[{{.window}}]))'}},
    {"raw": {"error_ratio_query": 'sum(rate(http_requests_total{status_code=~"5.."}[{{.window}}]))'
                                  ' / sum(rate(http_requests_total[{{.window}}]))'}},
]
_OBJECTIVES = [90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100]
_label_names = st.from_regex(r"\A[a-z][a-z0-9_]{0,6}\Z").filter(
    lambda s: not s.startswith("sloth_") and s not in ("severity", "team"))
_label_values = st.text(alphabet=st.sampled_from("abz09 -_./:\"'\\{}"), min_size=1, max_size=8)


@st.composite
def _slo(draw: Any, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "objective": draw(st.sampled_from(_OBJECTIVES)),
        "labels": draw(st.dictionaries(_label_names, _label_values, max_size=2)),
        "sli": draw(st.sampled_from(_SLIS)),
    }
    page_off, ticket_off = draw(st.booleans()) and draw(st.booleans()), draw(st.booleans())
    alerting: dict[str, Any] = {
        "annotations": {"summary": "{{$labels.sloth_service}} burn"},
        "page_alert": {"labels": {"severity": "critical"}},
        "ticket_alert": {"labels": {"severity": "warning"}},
    }
    if not (page_off and ticket_off):
        alerting["name"] = f"Burn{name.replace('-', '').capitalize()}"
    page_for = draw(st.sampled_from([None, "1m", "2m", "5m"]))
    ticket_for = draw(st.sampled_from([None, "10m", "30m"]))
    for key, off, for_ in (("page_alert", page_off, page_for),
                           ("ticket_alert", ticket_off, ticket_for)):
        if off:
            alerting[key] = {"disable": True}
        elif for_:
            alerting[key]["for"] = for_
    out["alerting"] = alerting
    return out


@st.composite
def _spec(draw: Any, n: int) -> dict[str, Any]:
    names = draw(st.lists(st.from_regex(r"\A[a-z][a-z0-9]{0,5}\Z"), min_size=n, max_size=n,
                          unique=True))
    return {"version": "prometheus/v1", "service": "svc",
            "labels": draw(st.dictionaries(_label_names, _label_values, max_size=2)),
            "slos": [draw(_slo(nm)) for nm in names]}


def _write(tmp: Path, spec: dict[str, Any] | str) -> Path:
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    p = tmp / "spec.yml"
    p.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
    return repo_with(tmp / "repo", p)


@needs_promtool
@_settings(EXAMPLES)
@given(spec=_spec(4))
def test_valid_specs_generate_rules_and_tests_promtool_accepts(tmp_path: Path,
                                                              spec: dict[str, Any]) -> None:
    repo = _write(tmp_path / "valid", spec)
    plan = slo.plan(repo)
    assert plan.ok, [f.text() for f in plan.findings]
    slo.write(repo, plan)
    rules = sorted(str(p) for p in (repo / "monitoring/prometheus/rules/slo").glob("*.yml"))
    assert len(rules) == 4
    r = subprocess.run(["promtool", "check", "rules", *rules], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    tests = sorted(p.name for p in (repo / "tests/rules/slo").glob("*.test.yml"))
    events = [s for s in spec["slos"] if "events" in s["sli"]]
    assert len({t.split(".")[0] for t in tests}) == len(events), tests
    r = subprocess.run(["promtool", "test", "rules", *tests], capture_output=True, text=True,
                       timeout=600, cwd=repo / "tests/rules/slo", check=False)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]


def _corruptions() -> list[tuple[str, Any]]:
    """(where, replacement) pairs: each makes one SLO invalid in a way a user could."""
    return [("objective", 0), ("objective", 100.5), ("objective", "high"), ("objective", None),
            ("name", "bad name"), ("name", ""), ("sli", {}), ("sli", "sum(x)"),
            ("labels", {"bad-label": "x"}), ("labels", ["a"]), ("labels", {"a": {"b": 1}}),
            ("alerting", {"name": "Bad\nName"}), ("alerting", {"page_alert": {"for": "soon"}}),
            ("sli", {"events": {"error_query": "sum(rate(x[5m]))", "total_query": "sum(y)"}}),
            ("sli", {"events": {"error_query": "sum(rate(x[{{.window}}]",
                                "total_query": "sum(rate(y[{{.window}}]))"}})]


@_settings(40)
@given(spec=_spec(2), which=st.sampled_from(_corruptions()), index=st.integers(0, 1))
def test_invalid_specs_get_located_errors(tmp_path: Path, spec: dict[str, Any],
                                          which: tuple[str, Any], index: int) -> None:
    key, value = which
    spec["slos"][index][key] = value
    repo = _write(tmp_path / "invalid", spec)
    plan = slo.plan(repo)
    errors = [f for f in plan.findings if f.severity == Severity.ERROR]
    assert errors and plan.files == {}
    text = (repo / "monitoring/slos/spec.yml").read_text().splitlines()
    for f in errors:
        assert f.path == "monitoring/slos/spec.yml" and 1 <= f.line <= len(text), f.text()


@_settings(60)
@given(text=st.one_of(st.text(max_size=200),
                      st.builds(lambda d: yaml.safe_dump(d), st.recursive(
                          st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                          lambda c: st.lists(c, max_size=3) | st.dictionaries(
                              st.sampled_from(["version", "slos", "service", "name", "sli",
                                               "objective", "apiVersion", "kind", "spec"]),
                              c, max_size=4), max_leaves=12))))
def test_any_text_is_located_errors_never_a_traceback(tmp_path: Path, text: str) -> None:
    p = tmp_path / "fuzz.yml"
    p.write_text(text, encoding="utf-8")
    spec, errs = load_file(p, "fuzz.yml")
    for f in errs:
        assert f.path == "fuzz.yml" and f.line >= 1 and f.message, f.text()
    if not errs:  # valid by chance: it must then generate without error
        assert spec.slos is not None
