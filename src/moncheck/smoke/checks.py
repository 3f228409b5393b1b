"""Smoke checks against a target. Each returns data or raises ``SmokeFailure`` (one line).

The pytest tests in ``tests/smoke/`` are thin wrappers around these functions so the same checks
can be driven from elsewhere (bench, CLI) and unit-tested against small fake servers.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from moncheck import toolchain
from moncheck.smoke import repo as repo_mod
from moncheck.smoke.retry import Response, SmokeFailure, http_get
from moncheck.smoke.targets import Target, UptimeCheck

HEALTHY = "healthy"


def uptime(target: Target, check: UptimeCheck, attempts: int = 3) -> Response:
    """The check's URL answers ``expected_status`` within its timeout."""
    url = target.check_url(check)
    resp = http_get(url, f"uptime {check.name}", timeout=check.timeout, attempts=attempts,
                    expected_status=check.expected_status, auth=target.auth_for(url))
    if resp.elapsed > check.timeout:  # pragma: no cover - requests enforces per-read timeouts only
        raise SmokeFailure(f"uptime {check.name}", url, f"took {resp.elapsed:.2f}s > {check.timeout:g}s")
    return resp


def health(target: Target, schema_path: Path) -> dict[str, Any]:
    """``/health`` matches its JSON Schema, is healthy, and lists every component."""
    import jsonschema

    url = target.url("service_url") + "/health"
    resp = http_get(url, "health endpoint", expected_status=None, auth=target.auth_of("service"))
    try:
        doc = resp.json()
    except ValueError:
        raise SmokeFailure("health endpoint returns JSON", url, f"HTTP {resp.status}: {resp.text[:80]}") from None
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.path) or "(root)"
        raise SmokeFailure("health matches health.schema.json", url,
                           f"{len(errors)} schema error(s), first at {where}: {e.message}")
    required = schema.get("properties", {}).get("checks", {}).get("required", [])
    missing = [c for c in required if c not in doc.get("checks", {})]
    if missing:
        raise SmokeFailure("health lists every component", url, f"missing {', '.join(missing)}")
    bad = {k: v.get("status") for k, v in doc.get("checks", {}).items() if v.get("status") != HEALTHY}
    if doc.get("status") != HEALTHY or bad or resp.status != 200:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(bad.items())) or "no component named"
        raise SmokeFailure("health is healthy", url, f"HTTP {resp.status} status={doc.get('status')} ({detail})")
    return doc


def metrics_text(target: Target) -> tuple[str, str]:
    url = target.url("service_url") + "/metrics"
    return url, http_get(url, "metrics endpoint", auth=target.auth_of("service")).text


def missing_metrics(text: str, cataloged: dict[str, str]) -> list[str]:
    """Cataloged service metrics of which no sample name appears in the exposition."""
    seen: set[str] = set()
    for line in text.splitlines():
        if line.startswith(("# TYPE ", "# HELP ")):
            parts = line.split()
            if len(parts) > 2:
                seen.add(parts[2])
        elif line and not line.startswith("#"):
            seen.add(line.split("{", 1)[0].split(" ", 1)[0])
    missing = []
    for name, kind in sorted(cataloged.items()):
        names = repo_mod.exposed_names(name, kind)
        # prometheus_client's TYPE line names counters without _total; accept either.
        if not any(n in seen for n in names) and not (kind == "histogram" and name in seen):
            missing.append(name)
    return missing


def promtool_lint(text: str, timeout: float = 20.0) -> list[str] | None:
    """Problems ``promtool check metrics`` reports; None when promtool is not installed."""
    exe = toolchain.find("promtool")
    if not exe:
        return None
    proc = subprocess.run([exe, "check", "metrics"], input=text, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode == 0:
        return []
    lines = [ln.strip() for ln in (proc.stdout + "\n" + proc.stderr).splitlines() if ln.strip()]
    return lines or [f"promtool exited {proc.returncode}"]


# ------------------------------------------------------------------ Prometheus


def prom_api(target: Target, path: str, what: str) -> Any:
    url = target.url("prometheus_url") + path
    resp = http_get(url, what, auth=target.auth_of("prometheus"))
    try:
        body = resp.json()
    except ValueError:
        raise SmokeFailure(what, url, f"not JSON: {resp.text[:80]}") from None
    if body.get("status") != "success":
        raise SmokeFailure(what, url, f"status={body.get('status')} error={body.get('error')}")
    return body["data"]


def ready(target: Target, name: str, what: str) -> None:
    """``/-/ready`` of target ``name`` (``prometheus`` or ``alertmanager``) answers 200."""
    base = target.url(f"{name}_url")
    http_get(base + "/-/ready", what, auth=target.auth_of(name))


def scrape_targets(target: Target) -> list[tuple[str, str, str]]:
    """``(job/instance, health, lastError)`` of every active scrape target."""
    data = prom_api(target, "/api/v1/targets?state=active", "Prometheus scrape targets")
    return [
        (f"{t['labels'].get('job')}/{t['labels'].get('instance')}", str(t.get("health")),
         str(t.get("lastError") or ""))
        for t in data.get("activeTargets", [])
    ]


def loaded_rule_groups(target: Target) -> list[dict[str, Any]]:
    return prom_api(target, "/api/v1/rules", "Prometheus rules")["groups"]


def rule_group_diff(loaded: list[dict[str, Any]], want: dict[str, list[str]]) -> list[str]:
    got = {g["name"]: [r.get("name") for r in g.get("rules", [])] for g in loaded}
    out = []
    for name in sorted(set(want) - set(got)):
        out.append(f"group {name!r} in repo but not loaded")
    for name in sorted(set(got) - set(want)):
        out.append(f"group {name!r} loaded but not in repo")
    for name in sorted(set(want) & set(got)):
        if sorted(want[name]) != sorted(got[name]):
            extra = sorted(set(got[name]) - set(want[name]))
            lack = sorted(set(want[name]) - set(got[name]))
            out.append(f"group {name!r} rules differ (missing {lack}, extra {extra})")
    return out


def rule_errors(loaded: list[dict[str, Any]]) -> list[str]:
    return [
        f"{g['name']}/{r.get('name')}: {r.get('lastError') or r.get('health')}"
        for g in loaded
        for r in g.get("rules", [])
        if r.get("lastError") or r.get("health") == "err"
    ]


def firing_critical(target: Target) -> list[str]:
    data = prom_api(target, "/api/v1/alerts", "Prometheus alerts")
    return sorted(
        a["labels"].get("alertname", "?")
        for a in data.get("alerts", [])
        if a.get("state") == "firing" and a["labels"].get("severity") == "critical"
    )


# ------------------------------------------------------------------ Alertmanager


def alertmanager_config(target: Target) -> dict[str, Any]:
    url = target.url("alertmanager_url") + "/api/v2/status"
    resp = http_get(url, "Alertmanager status", auth=target.auth_of("alertmanager"))
    try:
        original = resp.json()["config"]["original"]
        return yaml.safe_load(original) or {}
    except (ValueError, KeyError, TypeError, yaml.YAMLError) as e:
        raise SmokeFailure("Alertmanager loaded config", url, f"unreadable: {e}") from None


def failed_notifications(target: Target) -> float:
    """Sum of ``alertmanager_notifications_failed_total`` over all integrations (and reasons)."""
    url = target.url("alertmanager_url") + "/metrics"
    text = http_get(url, "Alertmanager metrics", auth=target.auth_of("alertmanager")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("alertmanager_notifications_failed_total"):
            try:
                total += float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                continue
    return total
