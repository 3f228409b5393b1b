"""Notifications read as a person reads them: each broken field is named with its template line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from moncheck.drills import content

REPO = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((REPO / "tests/fixtures/templates/notifications-am-0.25.json").read_text())
RUNBOOK = "https://github.com/gocarbontracker/monitoring/blob/main/monitoring/runbooks/HighErrorRate.md"
ALERT = {"status": "firing", "labels": {"alertname": "HighErrorRate", "job": "gocarbon-api", "severity": "critical",
                                        "team": "platform"},
         "annotations": {"summary": "gocarbon-api: more than 5% of requests fail with 5xx",
                         "description": "12.5% of gocarbon-api requests fail with 5xx (threshold 5%).",
                         "runbook_url": RUNBOOK}}
TEMPLATES = content.Templates(REPO)


def golden(receiver: str, integration: str) -> dict[str, Any]:
    return copy.deepcopy(next(r for r in GOLDEN if r["receiver"] == receiver and r["integration"] == integration))


def _line(name: str) -> int:
    text = (REPO / "monitoring/alertmanager/templates/gocarbon.tmpl").read_text().splitlines()
    return next(i for i, ln in enumerate(text, 1) if f'define "{name}"' in ln)


@pytest.mark.parametrize("path", sorted((REPO / "tests/fixtures/templates").glob("notifications-am-*.json")),
                         ids=lambda p: p.stem)
def test_the_golden_notifications_read_well(path: Path) -> None:
    for r in json.loads(path.read_text()):
        if r["alertnames"] == ["HighErrorRate"]:
            assert content.check(r, ALERT, TEMPLATES) == [], r["receiver"]


def _slack(mutate: Any) -> dict[str, Any]:
    r = golden("slack-critical", "slack")
    mutate(r["body"]["attachments"][0])
    return r


CASES = [
    ("slack-empty-title", lambda: _slack(lambda a: a.update(title=" ")), "gocarbon.title",
     "receiver slack-critical (slack) title [template gocarbon.title], firing HighErrorRate: empty"),
    ("slack-no-value", lambda: _slack(lambda a: a.update(text=a["text"] + " team <no value>")), "gocarbon.slack.text",
     "receiver slack-critical (slack) text [template gocarbon.slack.text], firing HighErrorRate: renders <no value> "
     "(a label or annotation the alert does not have)"),
    ("slack-template-error", lambda: _slack(lambda a: a.update(
        text=a["text"] + ' template: gocarbon.tmpl:20:5: executing "x" at <.Foo>: error calling index')),
     "gocarbon.slack.text", "receiver slack-critical (slack) text [template gocarbon.slack.text], firing HighErrorRate: "
     "shows a template error"),
    ("slack-no-description", lambda: _slack(lambda a: a.update(text=a["text"].replace("12.5%", "x"))),
     "gocarbon.slack.text", "receiver slack-critical (slack) text [template gocarbon.slack.text], firing HighErrorRate: "
     "does not show the description '12.5% of gocarbon-api requests fail with 5xx (threshold 5%).'"),
    ("slack-colour", lambda: _slack(lambda a: a.update(color="good")), "gocarbon.slack.color",
     "receiver slack-critical (slack) color [template gocarbon.slack.color], firing HighErrorRate: good on a firing "
     "critical alert"),
]


@pytest.mark.parametrize("make,template,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_field_is_named_at_its_template_line(make: Any, template: str, message: str) -> None:
    findings = [f.text() for f in content.check(make(), ALERT, TEMPLATES)]
    prefix = f"monitoring/alertmanager/templates/gocarbon.tmpl:{_line(template)}: error: drills/notification: "
    assert len(findings) == 1 and findings[0].startswith(prefix + message), findings


def test_pagerduty_severity_and_runbook_link() -> None:
    r = golden("pagerduty-critical", "pagerduty")
    r["body"]["payload"]["severity"] = "urgent"
    details = r["body"]["payload"]["custom_details"]
    r["body"]["payload"]["custom_details"] = {"summary": details["summary"]}  # no runbook anywhere
    got = [f.text() for f in content.check(r, ALERT, TEMPLATES)]
    assert [g.split(": ", 3)[-1] for g in got] == [
        "receiver pagerduty-critical (pagerduty) severity [inline], firing HighErrorRate: urgent is not a PagerDuty "
        "severity (critical, error, info, warning)",
        "receiver pagerduty-critical (pagerduty) links [Alertmanager default (no links by default)], firing "
        f"HighErrorRate: no link to the runbook {RUNBOOK}"]
    assert got[0].startswith("monitoring/alertmanager/alertmanager.yml:")


def test_email_needs_both_parts() -> None:
    r = golden("email-critical", "email")
    del r["parts"]["text/html"]
    got = [f.text() for f in content.check(r, ALERT, TEMPLATES)]
    assert len(got) == 1 and got[0].endswith(
        "receiver email-critical (email) html [Alertmanager default email.default.html], firing HighErrorRate: empty")


def test_resolved_slack_is_green() -> None:
    r = golden("slack-critical", "slack")
    alert = {**ALERT, "status": "resolved"}
    r["body"]["attachments"][0]["color"] = "danger"
    got = [f.text() for f in content.check(r, alert, TEMPLATES)]
    assert len(got) == 1 and "danger on a resolved notification (expected good)" in got[0]


def test_slack_colour_follows_the_group_not_the_one_resolved_instance() -> None:
    # One instance resolved while another of its group still fires: Alertmanager sends a firing
    # message (`.Status` is the group's), so a firing colour is right (seen in a serial drill run).
    r = golden("slack-critical", "slack")
    r["body"]["attachments"][0]["color"] = "danger"
    assert content.check(r, {**ALERT, "status": "resolved", "group_status": "firing"}, TEMPLATES) == []
    got = [f.text() for f in content.check(r, {**ALERT, "status": "resolved", "group_status": "resolved"}, TEMPLATES)]
    assert len(got) == 1 and "danger on a resolved notification (expected good)" in got[0]
