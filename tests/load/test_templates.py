"""Notification templates rendered by the real Alertmanager, read as a person reads them.

A fixed alert set is posted to a real Alertmanager running the repository's configuration (every
receiver pointed at the sink); what each receiver's Slack, PagerDuty and email integrations
deliver is compared with golden files, one per Alertmanager minor version
(``MONCHECK_UPDATE_GOLDEN=1`` rewrites the one of the toolchain in use) and checked
by ``moncheck.drills.content``. A broken copy of the templates must be reported at its line.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from moncheck.drills import content, templates
from moncheck.stack import missing_binaries

REPO = Path(__file__).resolve().parents[2]
def _golden() -> Path:
    """One golden file per Alertmanager minor version: what a person receives differs by version
    (0.33's PagerDuty details are structured, its default email HTML changed)."""
    from moncheck import toolchain
    version = toolchain.version_of(toolchain.binary("alertmanager"))
    return REPO / f"tests/fixtures/templates/notifications-am-{'.'.join(version.split('.')[:2])}.json"

RUNBOOKS = "https://github.com/gocarbontracker/monitoring/blob/main/monitoring/runbooks"

pytestmark = [pytest.mark.load,
              pytest.mark.skipif(bool(missing_binaries()), reason="needs alertmanager")]


def _alert(name: str, severity: str, summary: str, description: str) -> dict[str, Any]:
    return {"labels": {"alertname": name, "job": "gocarbon-api", "severity": severity, "team": "platform"},
            "annotations": {"summary": summary, "description": description,
                            "runbook_url": f"{RUNBOOKS}/{name}.md"},
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example/graph?g0.expr=x"}


ALERTS = [
    _alert("HighErrorRate", "critical", "gocarbon-api: more than 5% of requests fail with 5xx",
           "12.5% of gocarbon-api requests fail with 5xx (threshold 5%)."),
    _alert("TargetDown", "high", "gocarbon-api is down", "Prometheus cannot scrape gocarbon-api."),
    _alert("HighResponseTime", "warning", "Slow responses on gocarbon-api", "p95 latency is 1.8s (threshold 1s)."),
]
# critical: PagerDuty + Slack + email; high: Slack + email; warning: Slack.
EXPECTED = 6


def _key(r: dict[str, Any]) -> tuple[str, str, str]:
    return (str(r.get("receiver")), str(r.get("integration")), ",".join(r.get("alertnames") or []))


def _render(repo: Path) -> list[dict[str, Any]]:
    records = templates.render(repo, ALERTS, expect=EXPECTED)
    return sorted(records, key=_key)


def _findings(repo: Path, records: list[dict[str, Any]]) -> list[str]:
    idx = content.Templates(repo)
    out = []
    for r in records:
        if r.get("integration") == "shadow":
            continue
        alert = content.alert_of(records, r, None)
        assert alert is not None, f"no shadow record for {_key(r)}"
        out += [f.text() for f in content.check(r, alert, idx)]
    return out


def test_templates_render_as_the_golden_files_and_read_well() -> None:
    records = _render(REPO)
    seen = [_key(r) for r in records if r.get("integration") != "shadow"]
    assert len(seen) == EXPECTED, seen
    got = [templates.normalize(r) for r in records if r.get("integration") != "shadow"]
    golden = _golden()
    if os.environ.get("MONCHECK_UPDATE_GOLDEN") == "1" or not golden.exists():
        golden.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        assert os.environ.get("MONCHECK_UPDATE_GOLDEN") == "1", f"{golden} written: review and commit it"
    assert got == json.loads(golden.read_text()), f"templates changed against {golden.name}: rerun with " \
        "MONCHECK_UPDATE_GOLDEN=1 and review"
    assert _findings(REPO, records) == []


def test_a_broken_template_is_reported_at_its_line(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for part in ("monitoring/alertmanager", "policies"):
        shutil.copytree(REPO / part, repo / part)
    tmpl = repo / "monitoring/alertmanager/templates/gocarbon.tmpl"
    text = tmpl.read_text()
    # A typo a person makes: the annotation is `runbook_url`.
    tmpl.write_text(text.replace("Runbook: {{ .Annotations.runbook_url }}", "Runbook: {{ .Annotations.runbook }}"))
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if 'define "gocarbon.slack.text"' in ln)
    findings = _findings(repo, _render(repo))
    where = f"monitoring/alertmanager/templates/gocarbon.tmpl:{line}: error: drills/notification: "
    for receiver, name in (("slack-critical", "HighErrorRate"), ("slack-alerts", "TargetDown"),
                           ("slack-alerts", "HighResponseTime")):
        head = f"{where}receiver {receiver} (slack) text [template gocarbon.slack.text], firing {name}: "
        assert head + f"does not show the runbook_url '{RUNBOOKS}/{name}.md'" in findings
    assert len(findings) == 3, findings  # email and PagerDuty use their own templates: unaffected
