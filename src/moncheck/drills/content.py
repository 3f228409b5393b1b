"""Notifications read as a person reads them: what each integration shows must carry the alert.

For every notification of a drill's alert instance the sink received, the fields a person sees
are checked against the alert as Alertmanager had it (the shadow webhook's labels and
annotations): Slack title, text and colour; PagerDuty summary, severity and links (or details);
email subject, text part and HTML part; webhook alerts. Each must carry the rendered summary and
description, the runbook URL and the severity, with no ``<no value>``, no empty field and no
template error. A problem is a ``drills/notification`` finding at the template that renders the
field (``define`` line in ``monitoring/alertmanager/templates``), or at the receiver's field in
``alertmanager.yml`` when it is inline, or names Alertmanager's default template.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moncheck import yamlpos
from moncheck.findings import Finding, error

CHECK = "drills/notification"
AM_CONFIG = "monitoring/alertmanager/alertmanager.yml"
TEMPLATES = "monitoring/alertmanager/templates"

# field of the sink record -> (config key of the integration, Alertmanager's default template)
FIELDS = {
    "slack": {"title": ("title", "slack.default.title"), "text": ("text", "slack.default.text"),
              "color": ("color", "(default: danger when firing, good when resolved)")},
    "pagerduty": {"summary": ("description", "pagerduty.default.description"),
                  "severity": ("severity", "(default: error)"), "links": ("links", "(no links by default)"),
                  "details": ("details", "pagerduty.default.instances")},
    "email": {"subject": ("headers", "email.default.subject"), "text": ("text", "(no text part by default)"),
              "html": ("html", "email.default.html")},
    "webhook": {},
}
PD_SEVERITIES = {"critical", "error", "warning", "info"}
_DEFINE = re.compile(r'\{\{-?\s*define\s+"([^"]+)"')
_USE = re.compile(r'\{\{-?\s*template\s+"([^"]+)"')
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Where:
    path: str
    line: int
    what: str   # "template gocarbon.title" / "inline" / "Alertmanager default ..."


class Templates:
    """Where each receiver's integration fields come from, read once from the repository."""

    def __init__(self, repo: Path) -> None:
        self.defines: dict[str, tuple[str, int]] = {}
        tdir = repo / TEMPLATES
        for path in sorted(tdir.glob("*.tmpl")) if tdir.is_dir() else []:
            rel = str(path.relative_to(repo))
            for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                for name in _DEFINE.findall(line):
                    self.defines.setdefault(name, (rel, i))
        self.fields: dict[tuple[str, str, str], Where] = {}
        cfg_path = repo / AM_CONFIG
        doc = yamlpos.load(cfg_path, AM_CONFIG) if cfg_path.exists() else {}
        for rec in (doc.get("receivers") or []) if isinstance(doc, dict) else []:
            for integration, fields in FIELDS.items():
                for c in rec.get(f"{integration}_configs") or []:
                    for field, (key, default) in fields.items():
                        self.fields.setdefault((str(rec.get("name")), integration, field),
                                               self._where(c, key, default))

    def _where(self, c: Any, key: str, default: str) -> Where:
        value = c.get(key)
        if key == "headers" and isinstance(value, dict):
            value = value.get("Subject")
        if value is None:
            return Where(AM_CONFIG, yamlpos.line_of(c), f"Alertmanager default {default}")
        used = _USE.findall(str(value))
        if used and used[0] in self.defines:
            path, line = self.defines[used[0]]
            return Where(path, line, f"template {used[0]}")
        return Where(AM_CONFIG, yamlpos.line_of(c, key), "inline")

    def at(self, receiver: str, integration: str, field: str) -> Where:
        return self.fields.get((receiver, integration, field), Where(AM_CONFIG, 1, "unknown field"))


def check(record: dict[str, Any], alert: dict[str, Any], templates: Templates) -> list[Finding]:
    """Findings for one notification ``record`` of ``alert`` (a shadow-webhook alert)."""
    integration, receiver = str(record.get("integration")), str(record.get("receiver"))
    status = str(alert.get("status"))
    ann = alert.get("annotations") or {}
    labels = alert.get("labels") or {}
    out: list[Finding] = []

    def bad(field: str, message: str) -> None:
        w = templates.at(receiver, integration, field)
        out.append(error(CHECK, w.path, w.line, f"receiver {receiver} ({integration}) {field} [{w.what}], "
                                                f"{status} {labels.get('alertname')}: {message}"))

    def readable(field: str, text: Any, *, must: tuple[str, ...] = ()) -> None:
        s = "" if text is None else str(text)
        if not s.strip():
            bad(field, "empty")
            return
        if "<no value>" in s:
            bad(field, "renders <no value> (a label or annotation the alert does not have)")
        if re.search(r"template: \S+:\d+", s) or "error calling" in s:
            bad(field, f"shows a template error: {s.strip()[:120]!r}")
        flat = html.unescape(_TAGS.sub(" ", s))
        for what in must:
            value = str(ann.get(what) or labels.get(what) or "")
            if not value:
                bad(field, f"the alert has no {what} to show")
            elif value not in flat and value not in s:
                bad(field, f"does not show the {what} {value[:200]!r}")

    raw = record.get("body")
    body: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if integration == "slack":
        att = (body.get("attachments") or [{}])[0]
        readable("title", att.get("title"))
        readable("text", att.get("text"), must=("summary", "description", "runbook_url"))
        color = str(att.get("color") or "")
        # Slack colours the whole message by the group's status (`.Status`), not by one alert's.
        group = str(alert.get("group_status") or status)
        if group == "resolved" and color not in ("good", "#2eb886"):
            bad("color", f"{color or 'no colour'} on a resolved notification (expected good)")
        elif group == "firing" and color in ("", "good"):
            bad("color", f"{color or 'no colour'} on a firing {labels.get('severity')} alert")
        elif group == "firing" and labels.get("severity") == "critical" and color != "danger":
            bad("color", f"{color} on a firing critical alert (expected danger)")
        elif group == "firing" and labels.get("severity") != "critical" and color == "danger":
            bad("color", f"danger on a firing {labels.get('severity')} alert: every severity looks critical")
    elif integration == "pagerduty":
        payload = body.get("payload") or {}
        readable("summary", payload.get("summary") or body.get("description"))
        sev = str(payload.get("severity") or "")
        if sev not in PD_SEVERITIES:
            bad("severity", f"{sev or 'no severity'} is not a PagerDuty severity ({', '.join(sorted(PD_SEVERITIES))})")
        elif labels.get("severity") == "critical" and sev != "critical":
            bad("severity", f"{sev} for a critical alert")
        details = payload.get("custom_details") or body.get("details") or {}
        hrefs = [str(link.get("href", "")) for link in body.get("links") or [] if isinstance(link, dict)]
        runbook = str(ann.get("runbook_url") or "")
        if runbook and runbook not in hrefs and runbook not in str(details):
            bad("links", f"no link to the runbook {runbook}")
        if status == "firing":
            readable("details", " ".join(str(v) for v in details.values()) if isinstance(details, dict) else details,
                     must=("summary",))
    elif integration == "email":
        parts = record.get("parts") or {}
        readable("subject", record.get("subject"), must=("alertname",))
        readable("text", parts.get("text/plain"), must=("summary", "description", "runbook_url", "severity"))
        readable("html", parts.get("text/html"), must=("summary", "runbook_url"))
    elif integration == "webhook":
        alerts = body.get("alerts") or []
        if not any((a.get("annotations") or {}).get("runbook_url") for a in alerts if isinstance(a, dict)):
            bad("alerts", "no alert carries a runbook_url annotation")
    return out


def alert_of(records: list[dict[str, Any]], record: dict[str, Any], fingerprint: str | None) -> dict[str, Any] | None:
    """The shadow-webhook alert (with annotations) of ``record``'s flush and instance."""
    names = set(record.get("alertnames") or [])
    shadows = [s for s in records if s.get("integration") == "shadow" and s.get("receiver") == record.get("receiver")
               and (not names or names & set(s.get("alertnames") or []))]
    near = sorted(shadows, key=lambda s: abs(float(s["received_at"]) - float(record["received_at"])))
    for s in near[:3]:
        for a in s.get("alerts") or []:
            if fingerprint is None or a.get("fingerprint") == fingerprint:
                # The group's status too: a message about a group that still has a firing
                # instance is a firing message, also for this instance when it has resolved.
                return {**a, "group_status": s.get("status")}
    return None
