"""The pytest plugin: one item per promtool test group, diffs on failure, -k, skips, policy."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

RULES = """\
groups:
  - name: g
    rules:
      - alert: HighErrorRate
        expr: errors > 1
        labels: {severity: critical}
      - alert: InstanceDown
        expr: up == 0
        labels: {severity: warning}
"""
TESTS = """\
rule_files: [../../monitoring/rules.yml]
evaluation_interval: 1m
tests:
  - name: HighErrorRate fires
    interval: 1m
    input_series:
      - series: 'errors{job="a"}'
        values: '5x5'
    alert_rule_test:
      - eval_time: 2m
        alertname: HighErrorRate
        exp_alerts:
          - exp_labels: {severity: critical, job: a}
  - name: InstanceDown expects the wrong job
    interval: 1m
    input_series:
      - series: 'up{job="a"}'
        values: '0x5'
    alert_rule_test:
      - eval_time: 2m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: warning, job: zzz}
  - interval: 1m
    input_series:
      - series: 'up{job="a"}'
        values: '1x5'
    alert_rule_test:
      - eval_time: 2m
        alertname: InstanceDown
        exp_alerts: []
"""


@pytest.fixture
def rules_repo(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yml", **{"monitoring/rules": RULES})
    (pytester.path / "tests/rules").mkdir(parents=True)
    (pytester.path / "tests/rules/service.test.yml").write_text(TESTS)
    return pytester


def test_one_item_per_group(rules_repo: pytest.Pytester) -> None:
    result = rules_repo.runpytest("--collect-only", "-q", "--moncheck-no-policy")
    result.stdout.fnmatch_lines([
        "tests/rules/service.test.yml::HighErrorRate fires",
        "tests/rules/service.test.yml::InstanceDown expects the wrong job",
        "tests/rules/service.test.yml::InstanceDown",
    ])


def test_configured_globs_and_ids_from_alert_names(pytester: pytest.Pytester) -> None:
    """A peer's layout: tests in tests.yaml named nowhere but moncheck.yml, groups without names."""
    pytester.makefile(".yml", **{"prom/rules": RULES})
    unnamed = (TESTS.replace("../../monitoring/rules.yml", "rules.yml").replace("  - name: HighErrorRate fires\n    interval", "  - interval")
               .replace("InstanceDown expects the wrong job", "wrong job expected"))
    (pytester.path / "prom/tests.yaml").write_text(unnamed)
    (pytester.path / "moncheck.yml").write_text("rules: [prom/rules.yml]\nrule_tests: [prom/tests.yaml]\n")
    result = pytester.runpytest("--collect-only", "-q", "--moncheck-no-policy")
    result.stdout.fnmatch_lines([
        "prom/tests.yaml::HighErrorRate",
        "prom/tests.yaml::wrong job expected",
        "prom/tests.yaml::InstanceDown",
    ])
    result = pytester.runpytest("-k", "HighErrorRate", "--moncheck-no-policy", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=2)
    # A named group is selected by the alert it tests too.
    result = pytester.runpytest("-k", "InstanceDown", "--moncheck-no-policy", "-p", "no:cacheprovider", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["prom/tests.yaml::wrong job expected", "prom/tests.yaml::InstanceDown",
                                 "*2/3 tests collected (1 deselected)*"])


def test_broken_config_is_a_usage_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "moncheck.yml").write_text("rules: [a.yml]\nrule_test: [t.yml]\n")
    pytester.makefile(".yml", t="tests: []\n")
    result = pytester.runpytest("--collect-only", "-q")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*moncheck.yml:2: unknown key 'rule_test' (known: version, rules, rule_tests, *"])


def test_failing_group_shows_name_and_diff(rules_repo: pytest.Pytester) -> None:
    result = rules_repo.runpytest("--moncheck-no-policy", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        # the same message as `moncheck check`: group line and name, first difference, full text
        'service.test.yml:14: test group "InstanceDown expects the wrong job" failed: alert InstanceDown at 2m: '
        'alert 1: label job: expected "zzz", got "a"',
        "*exp:[*",
        '*job="zzz"*',
        "*got:[*",
        '*job="a"*',
    ])
    assert "Traceback" not in result.stdout.str()
    assert "pytest_plugin.py" not in result.stdout.str()


def test_k_selects_a_group(rules_repo: pytest.Pytester) -> None:
    result = rules_repo.runpytest("--moncheck-no-policy", "-k", "HighErrorRate", "-v")
    result.assert_outcomes(passed=1, deselected=2)


def test_items_are_marked_rules(rules_repo: pytest.Pytester) -> None:
    result = rules_repo.runpytest("--moncheck-no-policy", "-m", "not rules")
    result.assert_outcomes(deselected=3)


def test_missing_promtool_skips_with_reason(rules_repo: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)  # under CI a missing promtool fails (cannot_run), tested apart
    monkeypatch.setenv("MONCHECK_PROMTOOL", str(rules_repo.path / "no-promtool"))
    result = rules_repo.runpytest("--moncheck-no-policy", "-rs")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*SKIPPED*promtool*"])


def test_malformed_test_file_is_a_clean_collection_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "tests/rules").mkdir(parents=True)
    (pytester.path / "tests/rules/bad.test.yml").write_text("tests:\n  - name: a\n   interval: [\n")
    result = pytester.runpytest("--moncheck-no-policy")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*tests/rules/bad.test.yml:3: invalid YAML*"])
    assert "Traceback" not in result.stdout.str()


def test_markers_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    for name in ("rules", "policy", "load", "smoke"):
        result.stdout.fnmatch_lines([f"@pytest.mark.{name}: *"])


def test_policy_item_fails_with_findings(pytester: pytest.Pytester) -> None:
    (pytester.path / "tests/rules").mkdir(parents=True)
    rules = pytester.path / "monitoring/prometheus/rules"
    rules.mkdir(parents=True)
    (rules / "a.yml").write_text(textwrap.dedent("""\
        groups:
          - name: g
            rules:
              - alert: NoLabels
                expr: up == 0
        """))
    (pytester.path / "policies").mkdir()
    (pytester.path / "policies/policy.yml").write_text("enable: [alerts/required-labels]\n")
    result = pytester.runpytest("-m", "policy", "--moncheck-repo", str(pytester.path))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*moncheck check * found errors:*",
        "*monitoring/prometheus/rules/a.yml:4: error: alerts/required-labels: *",
    ])
