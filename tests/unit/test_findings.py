"""Reporters render the same findings in every format."""

import json

import pytest

from moncheck import findings as F


@pytest.fixture
def sample() -> list[F.Finding]:
    return [
        F.error("alerts/runbook", "monitoring/prometheus/rules/service.yml", 12, "no runbook"),
        F.warning("alerts/for", "rules.yml", 3, "for: 10s is short, x", hint="use 1m"),
    ]


def test_text_form(sample):
    lines = F.render_text(sample).splitlines()
    assert lines[0] == "monitoring/prometheus/rules/service.yml:12: error: alerts/runbook: no runbook"
    assert lines[1] == "rules.yml:3: warning: alerts/for: for: 10s is short, x (hint: use 1m)"


def test_json_envelope(sample):
    doc = json.loads(F.render_json(F.Report(sample, [("promtool/check-rules", "promtool not found")], suppressed=2, baselined=1)))
    assert doc["format_version"] == 1
    assert doc["counts"] == {"error": 1, "warning": 1, "info": 0, "suppressed": 2, "baselined": 1}
    assert doc["skipped"] == [{"check": "promtool/check-rules", "reason": "promtool not found"}]
    rows = doc["findings"]
    assert [(r["path"], r["line"], r["severity"], r["check"], r["message"], r["hint"]) for r in rows] == [
        ("monitoring/prometheus/rules/service.yml", 12, "error", "alerts/runbook", "no runbook", ""),
        ("rules.yml", 3, "warning", "alerts/for", "for: 10s is short, x", "use 1m"),
    ]
    assert rows[0]["docs_url"] == "https://github.com/gocarbontracker/monitoring/blob/main/docs/checks/alerts/runbook.md"


def test_github_form_escapes_properties(sample):
    out = F.render_github(sample).splitlines()
    assert out[0] == (
        "::error file=monitoring/prometheus/rules/service.yml,line=12,"
        "title=alerts/runbook::no runbook"
    )
    assert out[1].startswith("::warning file=rules.yml,line=3,title=alerts/for::for: 10s is short, x")


def test_line_is_at_least_one():
    assert F.error("x/y", "f", 0, "m").line == 1


def test_default_format_follows_github_actions(monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert F.default_format() == "github"
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert F.default_format() == "text"


def test_sarif_2_1_0_structure(sample):
    doc = json.loads(F.render_sarif(F.Report(sample, [("amtool/check-config", "amtool not found")])))
    assert (doc["version"], doc["$schema"]) == ("2.1.0", "https://json.schemastore.org/sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "moncheck"
    assert [(r["id"], r["helpUri"]) for r in driver["rules"]] == [
        ("alerts/for", F.DOCS_BASE + "alerts/for.md"), ("alerts/runbook", F.DOCS_BASE + "alerts/runbook.md")]
    assert [(r["ruleId"], r["ruleIndex"], r["level"], r["message"]["text"]) for r in run["results"]] == [
        ("alerts/runbook", 1, "error", "no runbook"), ("alerts/for", 0, "warning", "for: 10s is short, x (hint: use 1m)")]
    loc = run["results"][0]["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "monitoring/prometheus/rules/service.yml", "uriBaseId": "%SRCROOT%"},
                   "region": {"startLine": 12}}
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"] == "amtool/check-config skipped: amtool not found"


def test_github_annotations_past_the_step_limit_go_to_the_summary():
    many = [F.error("alerts/x", "r.yml", i, f"e{i}") for i in range(1, 13)] + [F.warning("alerts/y", "r.yml", 50, "w")]
    shown, rest = F.github_split(many)
    assert [f.line for f in shown] == [*range(1, 11), 50]
    assert [f.line for f in rest] == [11, 12]
    table = F.summary_markdown(rest, "more").splitlines()
    assert table[4] == f"| r.yml | 11 | error | [alerts/x]({F.DOCS_BASE}alerts/x.md) | e11 |"
