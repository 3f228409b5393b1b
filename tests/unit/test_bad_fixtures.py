"""Each broken input under tests/fixtures/bad/ yields its finding: exact check id, file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck.gate import run_gate

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"


@pytest.fixture
def every_check(tmp_path: Path) -> Path:
    """A policy that opts in to every organisation check with its default settings."""
    p = tmp_path / "policy.yml"
    p.write_text('enable: ["*"]\n')
    return p

# (id, repo (None: loose paths relative to BAD), loose paths, check, file, line)
CASES = [
    ("malformed-yaml", None, ["malformed-yaml.yml"], "schema/yaml", "malformed-yaml.yml", 6),
    ("rule-schema", None, ["rule-schema.yml"], "schema/rules", "rule-schema.yml", 5),  # the unknown key's line
    ("invalid-promql", None, ["invalid-promql.yml"], "promql/parse", "invalid-promql.yml", 5),
    ("unknown-metric", None, ["unknown-metric"], "promql/unknown-metric", "unknown-metric/rules.yml", 5),
    ("rate-over-gauge", None, ["rate-over-gauge"], "promql/rate-on-non-counter", "rate-over-gauge/rules.yml", 5),
    ("quantile-without-le", None, ["quantile-without-le.yml"], "promql/histogram-quantile", "quantile-without-le.yml", 5),
    ("missing-team-label", None, ["missing-labels.yml"], "alerts/required-labels", "missing-labels.yml", 7),
    ("duplicate-alert", None, ["duplicate-alert.yml"], "alerts/name", "duplicate-alert.yml", 12),
    ("template-label-dropped", None, ["template-label-dropped.yml"], "alerts/template", "template-label-dropped.yml", 10),
    ("template-unbalanced-braces", None, ["template-unbalanced.yml"], "alerts/template", "template-unbalanced.yml", 9),
    ("template-if-without-end", None, ["template-unbalanced.yml"], "alerts/template", "template-unbalanced.yml", 10),
    ("bad-severity", None, ["bad-severity.yml"], "alerts/severity", "bad-severity.yml", 9),
    ("short-for", None, ["short-for.yml"], "alerts/for", "short-for.yml", 6),
    ("unrouted-severity", None, ["unrouted"], "alerts/unrouted", "unrouted/rules.yml", 8),
    ("inline-slack-webhook", None, ["inline-secret.yml"], "secrets/inline", "inline-secret.yml", 7),
    ("inline-pagerduty-key", None, ["inline-secret.yml"], "secrets/inline", "inline-secret.yml", 9),
    ("untested-alert", None, ["untested"], "alerts/untested", "untested/rules.yml", 12),
    ("graph-panel", None, ["dashboards"], "dashboards/deprecated-panel", "dashboards/overview.json", 6),
    ("singlestat-panel", None, ["dashboards"], "dashboards/deprecated-panel", "dashboards/copy.json", 6),
    ("missing-datasource-var", None, ["dashboards"], "dashboards/datasource-variable", "dashboards/overview.json", 1),
    ("hardcoded-datasource", None, ["dashboards"], "dashboards/datasource-variable", "dashboards/overview.json", 6),
    ("duplicate-uid", None, ["dashboards"], "dashboards/uid", "dashboards/overview.json", 3),
    ("dashboard-bad-query", None, ["dashboards"], "dashboards/query", "dashboards/overview.json", 19),
    ("broken-dashboard-json", None, ["broken-dashboard.json"], "schema/json", "broken-dashboard.json", 5),
    ("forbidden-label", None, ["high-cardinality"], "catalog/high-cardinality", "high-cardinality/metrics.yml", 7),
    ("unbounded-label", None, ["high-cardinality"], "catalog/high-cardinality", "high-cardinality/metrics.yml", 8),
    ("catalog-schema", None, ["high-cardinality"], "schema/catalog", "high-cardinality/metrics.yml", 8),
    ("unknown-file", None, ["unknown-file.yml"], "schema/unknown-file", "unknown-file.yml", 1),
    # The seed design document's own configuration (tests/fixtures/bad/seed/), with its mistakes.
    ("seed-no-team", None, ["seed"], "alerts/required-labels", "seed/alert-rules.yml", 9),
    ("seed-no-runbook-url", None, ["seed"], "alerts/required-annotations", "seed/alert-rules.yml", 11),
    ("seed-single-receiver", None, ["seed"], "alerts/unrouted", "seed/alert-rules.yml", 10),
    ("seed-uncataloged-metric", None, ["seed"], "promql/unknown-metric", "seed/alert-rules.yml", 27),
    ("seed-p95-threshold-not-a-bucket", None, ["seed"], "promql/histogram-quantile", "seed/alert-rules.yml", 17),
    ("seed-slack-webhook", None, ["seed"], "secrets/inline", "seed/alertmanager.yml", 25),
    ("seed-pagerduty-key", None, ["seed"], "secrets/inline", "seed/alertmanager.yml", 31),
    ("seed-graph-panel", None, ["seed"], "dashboards/deprecated-panel", "seed/system-overview.json", 5),
    ("seed-dashboard-no-uid", None, ["seed"], "dashboards/uid", "seed/system-overview.json", 2),
    ("missing-runbook", "missing-runbook", [], "alerts/runbook", "monitoring/prometheus/rules/service.yml", 19),
    ("suppression-without-reason", "suppression-without-reason", [], "policy/suppression", "policies/policy.yml", 3),
    ("bad-workflow", "bad-workflow", [], "workflows/schema", ".github/workflows/ci.yml", 8),
]


@pytest.mark.parametrize("repo,paths,check,file,line", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_fixture_is_found(repo: str | None, paths: list[str], check: str, file: str, line: int,
                              monkeypatch: pytest.MonkeyPatch, every_check: Path) -> None:
    monkeypatch.chdir(BAD)
    # Repositories keep their own policy; loose files get one that opts in to every organisation rule.
    result = run_gate(BAD / repo if repo else BAD, [Path(p) for p in paths], tools=False,
                      policy=None if repo and (BAD / repo / "policies/policy.yml").is_file() else every_check)
    got = {(f.check, f.path, f.line) for f in result.findings}
    assert (check, file, line) in got, "\n".join(f.text() for f in result.findings)


def test_no_false_positive_on_sibling_alert(monkeypatch: pytest.MonkeyPatch, every_check: Path) -> None:
    """The tested alert of the untested fixture and the existing runbook are not reported."""
    monkeypatch.chdir(BAD)
    untested = run_gate(BAD, [Path("untested")], tools=False, policy=every_check).findings
    assert [f.line for f in untested if f.check == "alerts/untested"] == [12]
    runbook = run_gate(BAD / "missing-runbook", [], tools=False, policy=every_check).findings
    assert [f.line for f in runbook if f.check == "alerts/runbook"] == [19]


def _all_inputs() -> list[Path]:
    return sorted(p for p in BAD.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", _all_inputs(), ids=lambda p: str(p.relative_to(BAD)))
def test_no_input_raises(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    result = run_gate(BAD, [path.relative_to(BAD)], tools=False)
    assert not [f for f in result.findings if "internal error" in f.message]
