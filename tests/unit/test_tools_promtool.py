"""promtool wrapper against small real files and the real promtool."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from moncheck import toolchain
from moncheck.findings import Severity
from moncheck.tools import ToolMissing, find_binary
from moncheck.tools import promtool as pt

try:
    find_binary("promtool")
except ToolMissing as e:  # pragma: no cover - the CI and dev machines have it
    pytest.skip(str(e), allow_module_level=True)

# Prometheus 3 accepts any UTF-8 label name and words some errors differently.
V3 = toolchain.major("promtool") >= 3

GOOD = """\
groups:
  - name: g
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 1m
        labels: {severity: warning}
"""


def put(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def where(findings: list) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.severity.value) for f in findings)


RULE_CASES = [
    ("valid", GOOD, []),
    ("bad-expr", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == = 0\n", [("r.yml", 5, "error")]),
    ("unknown-field", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        foo: 1\n", [("r.yml", 6, "error")]),
    ("repeated-group", "groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n", [("r.yml", 4, "error")]),
    ("bad-label-no-position", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n      - alert: B\n        expr: up\n        labels: {'bad-name': x}\n", [] if V3 else [("r.yml", 6, "error")]),
    ("duplicate-lint-warning", "groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: up\n      - record: a:b\n        expr: up\n", [("r.yml", 4, "warning")]),
    ("invalid-yaml", "groups:\n  - name: g\n   rules: [\n", [("r.yml", 1, "error")]),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_check_rules(tmp_path: Path, content: str, expected: list) -> None:
    f = put(tmp_path, "r.yml", content)
    findings = pt.check_rules([f], tmp_path)
    assert where(findings) == expected
    assert all(x.check == "promtool/check-rules" for x in findings)


def test_check_rules_many_files_one_call_attributes_each(tmp_path: Path) -> None:
    a = put(tmp_path, "rules/a.yml", GOOD)
    b = put(tmp_path, "rules/b.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(\n")
    missing = tmp_path / "rules/missing.yml"
    findings = pt.check_rules([a, b, missing], tmp_path)
    assert where(findings) == [("rules/b.yml", 5, "error"), ("rules/missing.yml", 1, "error")]
    assert any("unclosed left parenthesis" in f.message for f in findings if f.path == "rules/b.yml")


def test_check_rules_outside_repo_keeps_given_path(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    f = put(tmp_path, "loose.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n")
    (finding,) = pt.check_rules([f], repo)
    assert finding.path == str(f) and finding.line == 5


PROM = """\
global:
  scrape_interval: 15s
rule_files:
  - rules/*.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:9093']
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:9090']
"""


def test_check_config_valid_from_any_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    put(tmp_path, "monitoring/prometheus/rules/a.yml", GOOD)
    cfg = put(tmp_path, "monitoring/prometheus/prometheus.yml", PROM)
    monkeypatch.chdir("/")
    assert pt.check_config(cfg, tmp_path) == []


@pytest.mark.parametrize(
    ("replace", "line", "text"),
    [
        (("15s", "15x"), 2, 'unknown unit "x" in duration "15x"' if V3 else "not a valid duration"),
        (("  scrape_interval: 15s\n", "  scrape_interval: 15s\n  bogus: 1\n"), 3, "field bogus not found"),
        (("rules/*.yml", "missing.yml"), 4, "does not point to an existing file"),
    ],
    ids=["bad-duration", "unknown-field", "missing-rule-file"],
)
def test_check_config_errors(tmp_path: Path, replace: tuple[str, str], line: int, text: str) -> None:
    put(tmp_path, "p/rules/a.yml", GOOD)
    cfg = put(tmp_path, "p/prometheus.yml", PROM.replace(*replace))
    (f,) = pt.check_config(cfg, tmp_path)
    assert (f.path, f.line, f.check) == ("p/prometheus.yml", line, "promtool/check-config")
    assert text in f.message


def test_check_config_leaves_rule_errors_to_check_rules(tmp_path: Path) -> None:
    put(tmp_path, "p/rules/a.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n")
    cfg = put(tmp_path, "p/prometheus.yml", PROM)
    assert pt.check_config(cfg, tmp_path) == []
    assert where(pt.check_config(cfg, tmp_path, include_rules=True)) == [("p/rules/a.yml", 5, "error")]


RULES = """\
groups:
  - name: g
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 1m
        labels: {severity: warning}
"""
TESTS = """\
rule_files: [../rules/r.yml]
evaluation_interval: 1m
tests:
  - name: InstanceDown fires
    interval: 1m
    input_series:
      - series: 'up{job="a"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: warning, job: a}
  - name: InstanceDown wrong expectation
    interval: 1m
    input_series:
      - series: 'up{job="a"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: critical, job: a}
  - interval: 1m
    input_series:
      - series: 'up{job="a"}'
        values: '1x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: InstanceDown
        exp_alerts: []
"""


def test_test_rules_one_finding_per_failing_group(tmp_path: Path) -> None:
    put(tmp_path, "rules/r.yml", RULES)
    t = put(tmp_path, "tests/a.test.yml", TESTS)
    (f,) = pt.test_rules([t], tmp_path)
    assert (f.path, f.line, f.severity) == ("tests/a.test.yml", 14, Severity.ERROR)
    assert 'test group "InstanceDown wrong expectation" failed' in f.message
    assert 'severity="critical"' in f.message and 'severity="warning"' in f.message


def test_test_rules_passing_file(tmp_path: Path) -> None:
    put(tmp_path, "rules/r.yml", RULES)
    passing = TESTS.replace("severity: critical, job: a", "severity: warning, job: a")
    t = put(tmp_path, "tests/a.test.yml", passing)
    assert pt.test_rules([t], tmp_path) == []


def test_test_rules_file_level_yaml_error(tmp_path: Path) -> None:
    put(tmp_path, "rules/r.yml", RULES)
    t = put(tmp_path, "tests/b.test.yml", "rule_files: [../rules/r.yml]\ntests:\n  - interval: 1m\n    bogus: 1\n")
    (f,) = pt.test_rules([t], tmp_path)
    assert (f.path, f.line) == ("tests/b.test.yml", 4) and "bogus" in f.message


def test_test_groups_names(tmp_path: Path) -> None:
    t = put(tmp_path, "a.test.yml", TESTS)
    assert [(g.name, g.line) for g in pt.test_groups(t)] == [
        ("InstanceDown fires", 4), ("InstanceDown wrong expectation", 14), ("InstanceDown", 24)  # unnamed: after the alert it tests
    ]


def test_run_test_group_isolates_one_group(tmp_path: Path) -> None:
    put(tmp_path, "rules/r.yml", RULES)
    t = put(tmp_path, "tests/a.test.yml", TESTS)
    assert pt.run_test_file(t)[0] is False
    assert pt.run_test_group(t, 0)[0] is True
    ok, out = pt.run_test_group(t, 1)
    assert not ok and "exp:[" in out and "got:[" in out
    assert pt.run_test_group(t, 2)[0] is True


def test_promtool_override_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MONCHECK_PROMTOOL", str(tmp_path / "nope"))
    with pytest.raises(ToolMissing, match="promtool"):
        pt.check_rules([put(tmp_path, "r.yml", GOOD)], tmp_path)


def test_test_files_are_split_into_balanced_calls_in_their_order() -> None:
    from moncheck.tools.promtool import _balanced

    cost = {"a": 5, "b": 1, "c": 4, "d": 2, "e": 3}
    assert _balanced(list("abcde"), cost, 2) == [["a", "b", "d"], ["c", "e"]]  # 8 and 7
    assert _balanced(["a"], cost, 4) == [["a"]]
    assert _balanced(list("abcde"), cost, 1) == [list("abcde")]


def test_a_tool_runs_with_a_temporary_folder_of_its_own_that_is_removed() -> None:
    # promtool keeps its test TSDB (test_storage*) in TMPDIR; a killed promtool left it in /tmp.
    from moncheck.tools import run

    done = run(["sh", "-c", 'echo "$TMPDIR"; mkdir "$TMPDIR/test_storage1"'])
    tmp = Path(done.stdout.strip())
    assert done.returncode == 0 and tmp.name.startswith("moncheck-tool-")
    assert not tmp.exists()
