"""Adoption and pull-request mode: inline disables, expiring suppressions, baseline, --base;
foreign formats: PrometheusRule CRDs, templated files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from moncheck import cli
from moncheck.gate import run_gate
from moncheck.suppress import read_baseline

ALWAYS = """\
      - alert: {name}
        expr: rate(errors_total[5m])
"""


def rules(*names: str, header: str = "") -> str:
    return "groups:\n  - name: g\n    rules:\n" + header + "".join(ALWAYS.format(name=n) for n in names)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "moncheck.yml").write_text("rules: [rules/*.yml]\npolicy: policy.yml\n")
    (tmp_path / "policy.yml").write_text("suppressions: []\n")
    (tmp_path / "rules").mkdir()
    return tmp_path


def found(root: Path, **kw: object) -> list[tuple[str, str, int]]:
    return [(f.check, f.path, f.line) for f in run_gate(root, [], tools=False, **kw).findings]  # type: ignore[arg-type]


def test_inline_disable_on_a_rule_and_for_a_file(repo: Path) -> None:
    (repo / "rules/a.yml").write_text(textwrap.dedent("""\
        groups:
          - name: g
            rules:
              # moncheck disable alerts/no-comparison heartbeat of the batch job, fires on purpose
              - alert: Heartbeat
                expr: rate(errors_total[5m])
              - alert: Errors
                expr: rate(errors_total[5m])
              - alert: Broken
                expr: rate(errors_total[5m])  # moncheck disable alerts/no-comparison
        """))
    (repo / "rules/b.yml").write_text("# moncheck disable-file alerts/* legacy file, rewritten in JIRA-12\n" + rules("Legacy"))
    res = run_gate(repo, [], tools=False)
    assert [(f.check, f.path, f.line, f.message) for f in res.findings if f.check == "policy/suppression"] == [
        ("policy/suppression", "rules/a.yml", 10, "disable of 'alerts/no-comparison' has no reason")]
    assert [(f.check, f.line) for f in res.findings if f.path == "rules/a.yml" and f.check != "policy/suppression"] == [
        ("alerts/no-comparison", 8), ("alerts/no-comparison", 10)]
    assert [(f.path, f.line) for f in res.suppressed] == [("rules/a.yml", 6), ("rules/b.yml", 6)]


def test_expired_suppressions_come_back(repo: Path) -> None:
    (repo / "rules/a.yml").write_text(rules("A", header="      # moncheck disable alerts/no-comparison until 2026-06-30 migrating\n"))
    (repo / "policy.yml").write_text("suppressions:\n  - {check: alerts/no-comparison, target: 'rules/*', reason: old, expires: 2026-01-31}\n")
    assert found(repo, today=dt.date(2026, 1, 31)) == []
    res = run_gate(repo, [], tools=False, today=dt.date(2026, 3, 1))
    assert [(f.path, f.line, f.message) for f in res.findings if f.check == "policy/suppression"] == [
        ("policy.yml", 2, "suppression of 'alerts/no-comparison' for 'rules/*' expired on 2026-01-31: its findings are back")]
    assert [f.line for f in res.suppressed] == [6]  # the inline one still holds
    late = run_gate(repo, [], tools=False, today=dt.date(2026, 7, 1))
    assert [(f.check, f.path, f.line) for f in late.findings] == [
        ("policy/suppression", "policy.yml", 2), ("policy/suppression", "rules/a.yml", 4), ("alerts/no-comparison", "rules/a.yml", 6)]
    assert late.findings[1].message == "disable of 'alerts/no-comparison' expired on 2026-06-30: its findings are back"


def test_baseline_adopts_legacy_and_only_new_problems_fail(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "rules/a.yml").write_text(rules("A", "B"))
    assert cli.main(["check", "--write-baseline", "baseline.json"]) == 0
    assert "wrote 2 findings to baseline.json" in capsys.readouterr().err
    assert sum(read_baseline(repo / "baseline.json").values()) == 2
    assert cli.main(["check", "--baseline", "baseline.json", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["findings"], doc["counts"]["baselined"]) == ([], 2)
    # An edit above moves every line: the baseline still holds; a new alert is reported.
    (repo / "rules/a.yml").write_text("# header\n" + rules("A", "B", "C"))
    assert cli.main(["check", "--baseline", "baseline.json"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["rules/a.yml:10: error: alerts/no-comparison: alert 'C': the expression has no condition (comparison, "
                   "and/unless, absent), so it fires for every series it selects, all the time (hint: compare it with a "
                   "threshold, e.g. `... > 0`)"]


def test_bad_baseline_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "rules/a.yml").write_text(rules("A"))
    (repo / "b.json").write_text("[]")
    assert cli.main(["check", "--baseline", "b.json"]) == 2
    assert "b.json: not a moncheck baseline" in capsys.readouterr().err


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True, capture_output=True)


def test_base_reports_only_changed_rules(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "rules/a.yml").write_text(rules("A", "B"))
    (repo / "rules/old.yml").write_text(rules("Old"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "checkout", "-qb", "pr")
    text = (repo / "rules/a.yml").read_text().replace("      - alert: B\n        expr: rate(errors_total[5m])",
                                                      "      - alert: B\n        expr: rate(errors_total[10m])")
    (repo / "rules/a.yml").write_text(text)
    (repo / "rules/new.yml").write_text(rules("New"))  # untracked: wholly new
    assert found(repo, base="main") == [("alerts/no-comparison", "rules/a.yml", 7), ("alerts/no-comparison", "rules/new.yml", 5)]
    assert len(found(repo)) == 4
    assert cli.main(["check", "--base", "nope"]) == 2
    assert "moncheck: error: git merge-base nope HEAD" in capsys.readouterr().err


def test_prometheus_rule_crds_with_lines(tmp_path: Path) -> None:
    crd = textwrap.dedent("""\
        apiVersion: monitoring.coreos.com/v1
        kind: PrometheusRule
        metadata: {name: a}
        spec:
          groups:
            - name: a
              rules:
                - alert: A
                  expr: rate(errors_total[5m])
        ---
        apiVersion: monitoring.coreos.com/v1
        kind: PrometheusRule
        metadata: {name: b}
        spec:
          groups:
            - name: b
              rules:
                - alert: B
                  expr: count(up) by (job) == 0
        """)
    (tmp_path / "crds.yaml").write_text(crd)
    res = run_gate(tmp_path, [tmp_path / "crds.yaml"])
    assert [(f.check, f.path, f.line) for f in res.findings] == [
        ("alerts/no-comparison", "crds.yaml", 9), ("promql/count-zero", "crds.yaml", 19)]
    assert dict(res.skipped)["promtool/check-rules"] == "promtool cannot read PrometheusRule resources: 1 CRD file(s) checked by moncheck only"


@pytest.mark.parametrize(("text", "line"), [
    ("groups:\n{{- range .Values.groups }}\n  - name: {{ .name }}\n{{- end }}\n", 2),
    ("groups:\n  - name: g\n    rules:\n{{ include \"rules\" . | indent 6 }}\n", 4),
    ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up{job=\"{{ job }}\"} == 0\n{% if x %}\n", 6),
], ids=["helm-range", "helm-include", "jinja"])
def test_templated_files_say_render_first(tmp_path: Path, text: str, line: int) -> None:
    (tmp_path / "t.yml").write_text(text)
    res = run_gate(tmp_path, [tmp_path / "t.yml"], tools=False)
    assert [(f.check, f.path, f.line, f.message) for f in res.findings] == [
        ("schema/templated", "t.yml", line, "templated: render it first (helm template / your Jinja renderer), then check the output")]


def test_alert_templates_are_not_helm(tmp_path: Path) -> None:
    text = ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n"
            "          description: |\n            {{ if gt $value 1.0 }}big{{ end }} {{ template \"x\" . }}\n")
    (tmp_path / "r.yml").write_text(text)
    assert [f.check for f in run_gate(tmp_path, [tmp_path / "r.yml"], tools=False).findings] == []


def test_inline_disable_of_an_unknown_check_is_reported(repo: Path) -> None:
    (repo / "rules/a.yml").write_text(rules("A", header="      # moncheck disable alerts/no-comparision typo in the id\n"))
    res = run_gate(repo, [], tools=False)
    assert [(f.check, f.path, f.line, f.message) for f in res.findings] == [
        ("policy/suppression", "rules/a.yml", 4, "names unknown check 'alerts/no-comparision'"),
        ("alerts/no-comparison", "rules/a.yml", 6,
         "alert 'A': the expression has no condition (comparison, and/unless, absent), so it fires for every series it "
         "selects, all the time")]


def test_renamed_file_counts_as_new_under_base(repo: Path) -> None:
    (repo / "rules/a.yml").write_text(rules("A"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "mv", "rules/a.yml", "rules/b.yml")
    _git(repo, "commit", "-qm", "rename")
    assert found(repo, base="main~1") == [("alerts/no-comparison", "rules/b.yml", 5)]


@pytest.mark.parametrize("text", ["", "{}\n", "null\n", "---\n"], ids=["blank", "empty-map", "null", "empty-doc"])
def test_empty_loose_files_are_not_errors(tmp_path: Path, text: str) -> None:
    (tmp_path / "rules.yaml").write_text(text)
    (tmp_path / "alerts.yaml").write_text(rules("A"))
    res = run_gate(tmp_path, [tmp_path / "rules.yaml", tmp_path / "alerts.yaml"], tools=False)
    assert [(f.check, f.path) for f in res.findings] == [("alerts/no-comparison", "alerts.yaml")]
