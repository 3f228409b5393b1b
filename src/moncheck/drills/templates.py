"""Render the repository's notification templates with the real Alertmanager engine.

``amtool template render`` does not exist in amtool 0.25, so a real Alertmanager (the stack's
derived configuration: every receiver pointed at the sink) is started alone with a sink, a fixed
alert set is posted to its API, and what the sink receives per receiver and integration is
returned: the same bytes a person's Slack, PagerDuty, mail client or webhook would get.
``normalize`` strips what changes from run to run (times, ids, ports) for golden files.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import requests

from moncheck.stack import config as cfg
from moncheck.stack import leftovers, signals
from moncheck import toolchain
from moncheck.stack.procs import Proc, StackError, free_port

SPEED = 60.0  # group_wait 10s/30s -> well under a second


def render(repo: Path, alerts: list[dict[str, Any]], *, expect: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Post ``alerts`` (Alertmanager API v2 objects) and return the sink's records once ``expect``
    notifications (shadow webhooks excluded) have arrived, or the timeout passed."""
    try:
        am_bin = toolchain.binary("alertmanager")
    except toolchain.ToolMissing as e:
        raise StackError(f"missing binaries: {e}") from None
    signals.hold()
    marker = leftovers.make_dir()
    d = marker.dir
    procs: list[Proc] = []
    try:
        sink, smtp, am = free_port(), free_port(), free_port()
        config = cfg.write_alertmanager(repo, d / "alertmanager", f"http://127.0.0.1:{sink}",
                                        f"127.0.0.1:{smtp}", SPEED)
        procs = [
            Proc("sink", [sys.executable, "-m", "moncheck.stack.sink", "--port", str(sink), "--smtp-port", str(smtp)],
                 d / "logs/sink.log", f"http://127.0.0.1:{sink}/notifications"),
            Proc("alertmanager", [am_bin, f"--config.file={config}", f"--storage.path={d / 'am-data'}",
                                  f"--web.listen-address=127.0.0.1:{am}", "--cluster.listen-address="],
                 d / "logs/alertmanager.log", f"http://127.0.0.1:{am}/-/ready"),
        ]
        for p in procs:
            p.on_started = lambda proc: marker.add(proc.name, proc.popen.pid) if proc.popen else None
            p.start()
        for p in procs:
            p.wait_ready(timeout)
        r = requests.post(f"http://127.0.0.1:{am}/api/v2/alerts", json=alerts, timeout=10)
        if r.status_code >= 300:
            raise StackError(f"Alertmanager refused the alerts: HTTP {r.status_code} {r.text[:200]}")
        deadline = time.monotonic() + timeout
        records: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            records = requests.get(f"http://127.0.0.1:{sink}/notifications", timeout=5).json()
            if sum(rec.get("integration") != "shadow" for rec in records) >= expect and _paired(records):
                return list(records)
            time.sleep(0.1)
        return records
    finally:
        for p in procs:
            try:
                p.stop()
            except BaseException:  # noqa: BLE001, S110 - keep stopping; the kernel kills the rest with us
                pass
        shutil.rmtree(d, ignore_errors=True)
        signals.release()


def _paired(records: list[dict[str, Any]]) -> bool:
    """Every message has the shadow record of its flush (they arrive a few milliseconds apart)."""
    shadows = {(r.get("receiver"), n) for r in records if r.get("integration") == "shadow"
               for n in r.get("alertnames") or []}
    return all((r.get("receiver"), n) in shadows for r in records if r.get("integration") != "shadow"
               for n in r.get("alertnames") or [])


_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \w+"), "<time>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"(https?://[\w.-]+):\d+"), r"\1:<port>"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "<fingerprint>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    (re.compile(r"--=?[0-9a-f]{20,}"), "--<boundary>"),
    (re.compile(r"boundary=\"?[0-9a-f]{20,}\"?"), "boundary=<boundary>"),
]


def _scrub(text: str) -> str:
    for rx, rep in _VOLATILE:
        text = rx.sub(rep, text)
    return text


def normalize(record: dict[str, Any]) -> dict[str, Any]:
    """What a person sees of one record, without run-specific values (for golden files)."""
    keep = {k: record.get(k) for k in ("receiver", "integration", "status", "alertnames")}
    if record.get("integration") == "email":
        keep.update(subject=record.get("subject"), parts=record.get("parts"))
    else:
        keep["body"] = record.get("body")
    return json.loads(_scrub(json.dumps(keep, sort_keys=True)))
