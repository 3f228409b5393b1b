"""Differential test of inhibition: the model against a real Alertmanager.

amtool cannot test inhibition, so a real Alertmanager (loopback, free port, temporary storage,
stopped at the end) receives a set of firing alerts and reports which ones it mutes
(``status.inhibitedBy`` of ``GET /api/v2/alerts``); the model must mute exactly the same ones.
Scenarios are kept apart by a ``scenario`` label that every rule's ``equal`` includes, so each
scenario behaves as if it ran on its own Alertmanager.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from moncheck import alertmanager as am
from moncheck import yamlpos
from moncheck.smoke import repo as repo_mod
from moncheck.stack.procs import Proc, free_port
from moncheck.tools import ToolMissing, find_binary

ROOT = Path(__file__).resolve().parents[2]

try:
    BINARY = find_binary("alertmanager", "prometheus-alertmanager")
except ToolMissing as e:  # pragma: no cover
    if os.environ.get("CI"):
        raise
    pytest.skip(str(e), allow_module_level=True)

EDGE_RULES = [
    {"source_matchers": ['kind="a"'], "target_matchers": ['kind=~"a|b"']},  # two-sided for kind=a
    {"source_match": {"alertname": "TargetDown"}, "target_match_re": {"alertname": "Host.*"}, "equal": ["instance"]},
    {"source_matchers": ['team="x"'], "target_matchers": ['team="x"']},  # same matcher on both sides
    {"source_matchers": ['sev="page"'], "target_matchers": ['sev!="page"'], "equal": ["region"]},
]

S = "scenario"
ALERTS: list[dict[str, str]] = [
    # the repository's rules: severity tiers, TargetDown, database, health
    {S: "1", "alertname": "HighErrorRate", "job": "api", "severity": "critical"},
    {S: "1", "alertname": "HighErrorRate", "job": "api", "severity": "warning"},
    {S: "1", "alertname": "HighErrorRate", "job": "canary", "severity": "warning"},
    {S: "1", "alertname": "HighResponseTime", "job": "api", "severity": "info"},
    {S: "2", "alertname": "DiskFilling", "job": "node", "severity": "high"},
    {S: "2", "alertname": "DiskFilling", "job": "node", "severity": "warning"},
    {S: "2", "alertname": "DiskFilling", "severity": "info"},  # `job` missing on one side only
    {S: "3", "alertname": "TargetDown", "job": "api", "instance": "h:1"},
    {S: "3", "alertname": "ScrapeFailures", "job": "api"},
    {S: "3", "alertname": "SlowScrapes", "job": "other"},
    {S: "3", "alertname": "HostHighCpu", "instance": "h:1"},
    {S: "3", "alertname": "MyHostX", "instance": "h:1"},  # match_re is anchored
    {S: "4", "alertname": "DatabaseConnectionFailure", "job": "api"},
    {S: "4", "alertname": "HealthCheckDegraded", "job": "api", "component": "database"},
    {S: "4", "alertname": "HealthCheckDegraded", "job": "api", "component": "cache"},
    {S: "4", "alertname": "HealthCheckUnhealthy", "job": "api", "component": "cache"},
    # edge rules
    {S: "5", "alertname": "A", "kind": "a"},  # matches both sides; alone it does not mute itself
    {S: "6", "alertname": "A", "kind": "a"},
    {S: "6", "alertname": "B", "kind": "b"},  # muted by the kind=a alert
    {S: "6", "alertname": "C", "kind": "a", "extra": "1"},  # two-sided: kind=a sources do not count
    {S: "7", "alertname": "X1", "team": "x"},
    {S: "7", "alertname": "X2", "team": "x"},
    {S: "8", "alertname": "P", "sev": "page"},  # `region` missing on both sides: equal
    {S: "8", "alertname": "Q", "sev": "ticket"},
    {S: "9", "alertname": "P", "sev": "page", "region": "eu"},
    {S: "9", "alertname": "Q", "sev": "ticket", "region": "us"},
]


def _config(tmp: Path) -> Path:
    repo = yaml.safe_load((ROOT / "monitoring/alertmanager/alertmanager.yml").read_text())
    rules = [*repo["inhibit_rules"], *EDGE_RULES]
    for r in rules:
        r["equal"] = [*r.get("equal", []), S]
    cfg = {"route": {"receiver": "null", "group_wait": "1h"}, "receivers": [{"name": "null"}], "inhibit_rules": rules}
    path = tmp / "alertmanager.yml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _inhibited(url: str) -> dict[tuple[tuple[str, str], ...], bool]:
    got = requests.get(f"{url}/api/v2/alerts", timeout=5).json()
    return {tuple(sorted(a["labels"].items())): bool(a["status"]["inhibitedBy"]) for a in got}


def test_model_mutes_exactly_what_alertmanager_mutes(tmp_path: Path) -> None:
    path = _config(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = Proc("alertmanager", [BINARY, f"--config.file={path}", f"--storage.path={tmp_path / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                tmp_path / "alertmanager.log", f"{url}/-/ready")
    try:
        proc.start()
        proc.wait_ready(30)
        now = datetime.now(UTC)
        body = [{"labels": a, "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()} for a in ALERTS]
        requests.post(f"{url}/api/v2/alerts", json=body, timeout=5).raise_for_status()
        # The inhibitor learns sources asynchronously: wait for a stable answer on every alert.
        deadline, last, seen = time.monotonic() + 20, None, None
        while time.monotonic() < deadline:
            seen = _inhibited(url)
            if len(seen) == len(ALERTS) and seen == last:
                break
            last = seen
            time.sleep(0.5)
        assert seen is not None and len(seen) == len(ALERTS), seen
        # What the smoke check reads back (Alertmanager's re-marshalled config) is the same model.
        original = requests.get(f"{url}/api/v2/status", timeout=5).json()["config"]["original"]
        assert repo_mod.diff_shapes(repo_mod.routing_shape(yamlpos.load(path)), repo_mod.routing_shape(yaml.safe_load(original))) == []
    finally:
        proc.stop()
    model = am.parse_config(yamlpos.load(path), "alertmanager.yml")
    want = {tuple(sorted(a.items())): am.muted_by(model.inhibit_rules, a, ALERTS) is not None for a in ALERTS}
    assert [k for k in want if want[k] != seen[k]] == []
    # The scenarios exercise both answers, and each edge rule's reason.
    muted = sorted(dict(k)["alertname"] + dict(k)[S] for k, v in want.items() if v)
    assert muted == ["B6", "DiskFilling2", "HealthCheckDegraded4", "HealthCheckDegraded4", "HighErrorRate1",
                     "HostHighCpu3", "Q8", "ScrapeFailures3"]
