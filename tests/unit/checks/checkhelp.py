"""Helpers of the check unit tests: a small catalog and rule-file builders."""

from __future__ import annotations

from moncheck.findings import Finding

CATALOG = """\
metrics:
  - name: http_requests_total
    type: counter
    help: requests
    labels:
      method: {values: [GET, POST]}
      route: {bound: 40}
      status_code: {pattern: "^[1-5][0-9][0-9]$", bound: 60}
  - name: http_request_duration_seconds
    type: histogram
    help: latency
    buckets: [0.1, 1]
    labels:
      route: {bound: 40}
  - name: http_active_connections
    type: gauge
    help: connections
    labels: {}
  - name: up
    type: gauge
    help: target up
    source: prometheus
    labels: {}
"""


def alert(name: str = "TargetDown", expr: str = "up == 0", for_: str = "5m", severity: str = "high",
          team: str = "platform", annotations: dict[str, str] | None = None) -> str:
    ann = annotations if annotations is not None else {
        "summary": "s", "description": "d", "runbook_url": f"https://x.example/monitoring/runbooks/{name}.md"}
    lines = [f"      - alert: {name}", f"        expr: {expr!r}", f"        for: {for_}",
             "        labels:", f"          severity: {severity}", f"          team: {team}", "        annotations:"]
    lines += [f"          {k}: {v!r}" for k, v in ann.items()]
    return "\n".join(lines) + "\n"


def rules(*items: str) -> str:
    return "groups:\n  - name: g\n    rules:\n" + "".join(items)




def ids(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.check, f.line) for f in findings]
