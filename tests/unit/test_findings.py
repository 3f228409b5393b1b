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


def test_json_form_round_trips(sample):
    rows = json.loads(F.render_json(sample))
    assert [(r["path"], r["line"], r["severity"], r["check"]) for r in rows] == [
        ("monitoring/prometheus/rules/service.yml", 12, "error", "alerts/runbook"),
        ("rules.yml", 3, "warning", "alerts/for"),
    ]


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
