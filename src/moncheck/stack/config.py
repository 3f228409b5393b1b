"""Derive the local stack's Prometheus and Alertmanager configs from the repository's.

Job names, labels, rules, routes, receivers and templates are kept; only where things are sent
changes (targets -> local processes, receivers -> the notification sink) and, with a speed factor,
every duration is compressed (``moncheck.drills.compress``).
"""

from __future__ import annotations

import glob
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from moncheck import atomic, yamlpos
from moncheck.drills import compress as cz
from moncheck.smoke.targets import load_env_file  # the one uptime parser (durations as "30s" too)

SD_KEYS_SUFFIX = "_sd_configs"
# Connection details that make no sense against local plain-HTTP processes.
DROP_JOB_KEYS = {"tls_config", "basic_auth", "authorization", "oauth2", "bearer_token",
                 "bearer_token_file", "proxy_url", "scheme", "params"}


# Prometheus and Alertmanager scraping their own /metrics (thousands of series) cannot answer
# within a 250ms compressed timeout on a loaded machine: measured on the shared 2-core host, the
# self-scrape failed 165 of 211 times in a parallel run, so TargetDown and ScrapeFailures fired
# for job="prometheus" in the healthy baseline. No drilled alert reads these jobs (their alerts
# are `untestable`), so they are scraped no faster than this.
META_ROLES = ("prometheus", "alertmanager")
META_MIN_INTERVAL_MS = 1000


def _slow_down(job: dict, global_cfg: dict) -> None:
    interval = cz.parse_duration_ms(job.get("scrape_interval") or global_cfg.get("scrape_interval")) or 0
    if interval < META_MIN_INTERVAL_MS:
        job["scrape_interval"] = job["scrape_timeout"] = f"{META_MIN_INTERVAL_MS}ms"


@dataclass
class Targets:
    """Local addresses the jobs are pointed at (host:port), None when the component is absent."""

    service: str
    prometheus: str
    alertmanager: str
    node: str | None = None
    node_absent: str = "prometheus-node-exporter is not installed"  # why ``node`` is None


@dataclass
class Derived:
    config_path: Path
    dropped_jobs: dict[str, str] = field(default_factory=dict)  # job -> reason
    caveats: list[cz.Caveat] = field(default_factory=list)


def job_role(job: dict) -> str:
    """Which local component a production job stands for."""
    name = str(job.get("job_name", "")).lower()
    if job.get("metrics_path") == "/probe" or "blackbox" in name:
        return "blackbox"
    if "alertmanager" in name:
        return "alertmanager"
    if "prometheus" in name:
        return "prometheus"
    ports = [str(t).rsplit(":", 1)[-1] for sc in job.get("static_configs") or [] for t in sc.get("targets") or []]
    if "node" in name or "9100" in ports:
        return "node"
    return "service"


def _load(path: Path, display: str) -> Any:
    doc = yamlpos.load(path, display)
    if not isinstance(doc, dict):
        raise cz.CompressionError([cz.Problem(display, 1, "expected a mapping at the top level")])
    return doc


def write_prometheus(repo: Path, out_dir: Path, targets: Targets, speed: float) -> Derived:
    """Write ``out_dir/prometheus.yml`` and the compressed rule files; return what was dropped."""
    src = repo / "monitoring/prometheus/prometheus.yml"
    display = "monitoring/prometheus/prometheus.yml"
    cfg = _load(src, display)
    res = cz.compress_prometheus(cfg, speed, display)
    problems = list(res.problems)
    out = res.data
    scrape_ms, eval_ms = cz.prometheus_intervals(cfg)
    derived = Derived(out_dir / "prometheus.yml")
    addr = {"service": targets.service, "prometheus": targets.prometheus,
            "alertmanager": targets.alertmanager, "node": targets.node}
    jobs = []
    for job in out.get("scrape_configs") or []:
        role = job_role(job)
        target = addr.get(role)
        if target is None:
            derived.dropped_jobs[job["job_name"]] = (
                "no blackbox exporter in the local stack" if role == "blackbox"
                else targets.node_absent)
            continue
        if role in META_ROLES:
            _slow_down(job, out.get("global") or {})
        labels: dict = {}
        for sc in job.get("static_configs") or []:
            labels.update(sc.get("labels") or {})
        for key in list(job):
            if key.endswith(SD_KEYS_SUFFIX) or key in DROP_JOB_KEYS:
                del job[key]
        job["static_configs"] = [{"targets": [target], **({"labels": labels} if labels else {})}]
        # A relabelling of the address would send the scrape elsewhere: keep every other one.
        job["relabel_configs"] = [r for r in job.get("relabel_configs") or []
                                  if not str(r.get("target_label", "")).startswith("__")]
        if not job["relabel_configs"]:
            del job["relabel_configs"]
        jobs.append(job)
    out["scrape_configs"] = jobs
    alerting = out.get("alerting") or {}
    alerting["alertmanagers"] = [{"api_version": "v2",
                                  "static_configs": [{"targets": [targets.alertmanager]}]}]
    out["alerting"] = alerting
    out.pop("remote_write", None)
    out.pop("remote_read", None)
    # Rule files: compressed copies at the same relative paths, so the globs stay as written.
    for pattern in cfg.get("rule_files") or []:
        for path in sorted(glob.glob(str(src.parent / pattern))):
            rel = Path(path).relative_to(src.parent)
            rdisplay = f"monitoring/prometheus/{rel}"
            try:
                doc = yamlpos.load(Path(path), rdisplay)
            except yamlpos.LoadError as e:
                problems.append(cz.Problem(e.path, e.line, e.message))
                continue
            if doc is None:
                continue
            r = cz.compress_rules(doc, speed, rdisplay, scrape_ms, eval_ms)
            problems += r.problems
            derived.caveats += r.caveats
            if r.data is not None:
                atomic.write_text(out_dir / rel, yaml.safe_dump(r.data, sort_keys=False, width=10_000))
    if problems:
        raise cz.CompressionError(problems)
    atomic.write_text(derived.config_path, yaml.safe_dump(out, sort_keys=False, width=10_000))
    return derived


def write_alertmanager(repo: Path, out_dir: Path, sink: str, smtp: str, speed: float) -> Path:
    """Copy the alertmanager dir (templates) and write its config redirected to the sink."""
    src_dir = repo / "monitoring/alertmanager"
    display = "monitoring/alertmanager/alertmanager.yml"
    cfg = _load(src_dir / "alertmanager.yml", display)
    res = cz.compress_alertmanager(cfg, speed, display)
    if res.problems:
        raise cz.CompressionError(res.problems)
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in src_dir.iterdir():
        if item.is_dir():
            shutil.copytree(item, out_dir / item.name, dirs_exist_ok=True)
    secrets = out_dir / "secrets"
    secrets.mkdir(exist_ok=True)
    out = redirect_receivers(res.data, sink, smtp, secrets)
    path = out_dir / "alertmanager.yml"
    atomic.write_text(path, yaml.safe_dump(out, sort_keys=False, width=10_000))
    return path


def _dummy_file(secrets: Path, name: str, value: str) -> str:
    p = secrets / name
    p.write_text(value, encoding="utf-8")
    return str(p)


def redirect_receivers(cfg: dict, sink: str, smtp: str, secrets: Path, shadow: bool = True) -> dict:
    """Point every receiver integration at the sink; secrets become dummy values (in temp files).

    ``shadow``: add a webhook to ``/shadow/<receiver>`` to each receiver that notifies anyone.
    """
    g = cfg.setdefault("global", {}) or {}
    cfg["global"] = g
    for key in list(g):
        if key.startswith(("slack_api_url", "pagerduty_url", "opsgenie", "victorops", "wechat",
                           "telegram", "webex", "smtp_auth")):
            del g[key]
    g.update({"smtp_smarthost": smtp, "smtp_from": "alertmanager@sink.local",
              "smtp_require_tls": False, "smtp_hello": "localhost"})
    for rec in cfg.get("receivers") or []:
        name = rec.get("name", "unnamed")
        for c in rec.get("slack_configs") or []:
            c.pop("api_url_file", None)
            c["api_url"] = f"{sink}/slack/{name}"
            c.pop("http_config", None)
        for c in rec.get("pagerduty_configs") or []:
            for k in ("routing_key", "routing_key_file", "service_key", "service_key_file"):
                c.pop(k, None)
            c["routing_key_file"] = _dummy_file(secrets, f"{name}-pagerduty", "dummy-routing-key")
            c["url"] = f"{sink}/pagerduty/{name}"
            c.pop("http_config", None)
        for c in rec.get("email_configs") or []:
            for k in list(c):
                if k.startswith("auth_") or k == "tls_config":
                    del c[k]
            c.update({"to": f"{name}@sink.local", "smarthost": smtp, "require_tls": False})
        for c in rec.get("webhook_configs") or []:
            c.pop("url_file", None)
            c["url"] = f"{sink}/webhook/{name}"
            c.pop("http_config", None)
        # Integrations the sink does not speak become webhooks to the same receiver.
        for key in [k for k in rec if k.endswith("_configs") and k not in
                    ("slack_configs", "pagerduty_configs", "email_configs", "webhook_configs")]:
            n = len(rec.pop(key) or [])
            rec.setdefault("webhook_configs", []).extend(
                {"url": f"{sink}/webhook/{name}", "send_resolved": True} for _ in range(n))
        if shadow and any(rec.get(k) for k in rec if k.endswith("_configs")):
            # Identifies the alert instances of each flush of this receiver (see moncheck.stack.sink).
            rec.setdefault("webhook_configs", []).append(
                {"url": f"{sink}/shadow/{name}", "send_resolved": True})
    return cfg


UPTIME_FLOOR_S = 0.25      # as the compressed scrape floor: the 2-core machine jitters more than that
UPTIME_DEFAULT_S = 10.0    # the reference service's own default when no check declares one


def uptime_interval(repo: Path, speed: float) -> float:
    """Seconds between the reference service's self uptime checks on the stack.

    The service runs all of the seed's checks in one loop, so it uses the shortest interval of
    ``monitoring/uptime/local.yml`` (every check then has at least its production number of
    samples per window), divided by the speed, never below ``UPTIME_FLOOR_S``.
    """
    path = repo / "monitoring/uptime/local.yml"
    intervals: list[float] = []
    if path.exists():
        # A broken file raises TargetError naming file and line: the stack says so and stops.
        target = load_env_file(path, str(path.relative_to(repo)))
        intervals = [c.interval for c in target.checks if c.interval > 0]
    base = min(intervals) if intervals else UPTIME_DEFAULT_S
    return max(base / max(speed, 1e-9), UPTIME_FLOOR_S)
