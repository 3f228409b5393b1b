"""Which sink records are notifications of one alert instance (the one this drill's fault raised).

Slack, PagerDuty and email messages carry rendered text only; the stack's shadow webhook on each
receiver (``moncheck.stack.config.redirect_receivers``) carries the alert instances of the same
flush: labels, fingerprint, ``startsAt``. A message counts for an expectation when a shadow record
of its receiver, received with it (``FLUSH_S``), holds an alert with the expectation's labels, the
wanted status and ``startsAt`` not before the fault; once one instance is found its fingerprint
is pinned, so the resolved notification must be of that same instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Integrations of one receiver are notified together (one fan-out per flush); over loopback their
# records land within milliseconds. Wide enough for SMTP on a loaded machine.
FLUSH_S = 2.0


def parse_time(text: Any) -> float | None:
    """Unix seconds of an RFC 3339 timestamp with up to nanoseconds (Alertmanager's), else None."""
    if not isinstance(text, str) or not text or text.startswith("0001-"):
        return None
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    head, sep, rest = t.partition(".")
    if sep:  # Python parses at most microseconds
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        t = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        return datetime.fromisoformat(t).timestamp()
    except ValueError:
        return None


@dataclass
class Instance:
    """The alert instance an expectation follows; ``fingerprint`` pinned at the first match."""

    alert: str
    labels: dict[str, str]
    since: float                       # unix time of the fault
    fingerprint: str | None = None
    starts_at: float | None = None
    foreign: set[str] = field(default_factory=set)  # receivers that got another instance (reported)

    def matches(self, a: dict[str, Any], status: str) -> bool:
        labels = a.get("labels") or {}
        if labels.get("alertname") != self.alert or a.get("status") != status:
            return False
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        if self.fingerprint is not None:
            return a.get("fingerprint") == self.fingerprint
        starts = parse_time(a.get("startsAt"))
        return starts is not None and starts >= self.since - 0.001

    def deliveries(self, records: list[dict[str, Any]], receiver: str, status: str) -> list[dict[str, Any]]:
        """The receiver's messages (not shadow records) that carry this instance with ``status``."""
        shadows = [r for r in records if r.get("integration") == "shadow" and r.get("receiver") == receiver]
        out: list[dict[str, Any]] = []
        for s in shadows:
            hit = next((a for a in s.get("alerts") or [] if self.matches(a, status)), None)
            if hit is None:
                if any((a.get("labels") or {}).get("alertname") == self.alert and a.get("status") == status
                       for a in s.get("alerts") or []):
                    self.foreign.add(receiver)
                continue
            if self.fingerprint is None:
                self.fingerprint = hit.get("fingerprint")
                self.starts_at = parse_time(hit.get("startsAt"))
            for r in records:
                if (r.get("integration") != "shadow" and r.get("receiver") == receiver
                        and abs(float(r["received_at"]) - float(s["received_at"])) <= FLUSH_S
                        and (not r.get("alertnames") or self.alert in r["alertnames"])
                        and r not in out and _nearest(r, shadows) is s):
                    out.append(r)
        return out


def _nearest(record: dict[str, Any], shadows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The shadow record of the same flush: same receiver, closest in time, naming the alert."""
    names = set(record.get("alertnames") or [])
    cands = [s for s in shadows if not names or names & set(s.get("alertnames") or [])]
    return min(cands, key=lambda s: abs(float(s["received_at"]) - float(record["received_at"])), default=None)
