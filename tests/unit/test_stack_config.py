"""Derivation of the local stack's configs (no processes started)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from moncheck import toolchain
from moncheck.stack import config as cfg
from moncheck.stack.procs import Proc, StackError, free_port

ROLES = [
    ("service", {"job_name": "gocarbon-api", "static_configs": [{"targets": ["api:8080"]}]}, "service"),
    ("node-by-name", {"job_name": "node", "static_configs": [{"targets": ["api:9100"]}]}, "node"),
    ("node-by-port", {"job_name": "hosts", "static_configs": [{"targets": ["h:9100"]}]}, "node"),
    ("prometheus", {"job_name": "prometheus"}, "prometheus"),
    ("alertmanager", {"job_name": "alertmanager"}, "alertmanager"),
    ("blackbox", {"job_name": "probe", "metrics_path": "/probe"}, "blackbox"),
]


@pytest.mark.parametrize("job,role", [r[1:] for r in ROLES], ids=[r[0] for r in ROLES])
def test_job_role(job: dict, role: str) -> None:
    assert cfg.job_role(job) == role


AM = {
    "global": {"slack_api_url_file": "/etc/secret", "smtp_auth_password": "x"},
    "route": {"receiver": "slack-alerts"},
    "receivers": [
        {"name": "pagerduty-critical", "pagerduty_configs": [{"routing_key_file": "/etc/pd"}]},
        {"name": "slack-alerts", "slack_configs": [{"channel": "#alerts", "api_url_file": "/etc/s"}]},
        {"name": "email-critical", "email_configs": [{"to": "oncall@example.com", "auth_password": "p"}]},
        {"name": "hook", "webhook_configs": [{"url": "https://example.com/x"}]},
        {"name": "ops", "opsgenie_configs": [{"api_key": "k"}]},
    ],
}


def test_receivers_redirected_to_sink(tmp_path: Path) -> None:
    out = cfg.redirect_receivers(yaml.safe_load(yaml.safe_dump(AM)), "http://127.0.0.1:5", "127.0.0.1:6", tmp_path)
    rec = {r["name"]: r for r in out["receivers"]}
    pd = rec["pagerduty-critical"]["pagerduty_configs"][0]
    assert pd["url"] == "http://127.0.0.1:5/pagerduty/pagerduty-critical"
    assert Path(pd["routing_key_file"]).read_text() == "dummy-routing-key"
    assert rec["slack-alerts"]["slack_configs"][0] == {"channel": "#alerts",
                                                        "api_url": "http://127.0.0.1:5/slack/slack-alerts"}
    email = rec["email-critical"]["email_configs"][0]
    assert email == {"to": "email-critical@sink.local", "smarthost": "127.0.0.1:6", "require_tls": False}
    assert rec["hook"]["webhook_configs"][0]["url"] == "http://127.0.0.1:5/webhook/hook"
    assert "opsgenie_configs" not in rec["ops"] and rec["ops"]["webhook_configs"][0]["url"].endswith("/webhook/ops")
    assert "slack_api_url_file" not in out["global"] and "smtp_auth_password" not in out["global"]
    assert out["global"]["smtp_smarthost"] == "127.0.0.1:6"


def test_repository_alertmanager_config_is_valid(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    if not (repo / "monitoring/alertmanager/alertmanager.yml").exists() or not toolchain.find("amtool"):
        pytest.skip("no alertmanager.yml or amtool")
    path = cfg.write_alertmanager(repo, tmp_path, "http://127.0.0.1:5", "127.0.0.1:6", 60)
    r = subprocess.run([toolchain.binary("amtool"), "check-config", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_crashing_component_named_with_log_tail(tmp_path: Path) -> None:
    p = Proc("broken", ["sh", "-c", "echo boom-line; exit 3"], tmp_path / "b.log", f"http://127.0.0.1:{free_port()}/")
    p.start()
    with pytest.raises(StackError, match=r"(?s)broken exited with status 3.*boom-line"):
        p.wait_ready(5)
    p.stop()


def test_never_ready_component_times_out_and_stops(tmp_path: Path) -> None:
    p = Proc("sleepy", ["sh", "-c", "echo waiting; sleep 30"], tmp_path / "s.log", f"http://127.0.0.1:{free_port()}/")
    p.start()
    pid = p.popen.pid
    with pytest.raises(StackError, match=r"(?s)sleepy not ready after 0.5s.*waiting"):
        p.wait_ready(0.5)
    p.stop(timeout=2)
    with pytest.raises(ProcessLookupError):
        import os
        os.kill(pid, 0)


def _env(*intervals: object) -> str:
    checks = "".join(f"  - {{name: c{i}, url: 'http://127.0.0.1:1/', interval: {v}, timeout: 5, expected_status: 200}}\n"
                     for i, v in enumerate(intervals))
    return "environment: local\nservice_url: http://127.0.0.1:1\nchecks:\n" + (checks or "  []\n").replace("checks:\n  []", "checks: []")


UPTIME = [
    ("shortest-check-over-speed", _env(60, 30), 60, 0.5),
    ("duration-strings", _env('"1m"', '"30s"'), 60, 0.5),  # read as Prometheus durations, not ignored
    ("floor", _env(30), 1000, 0.25),
    ("speed-one", _env(30), 1, 30.0),
    ("no-intervals-default", "environment: local\nservice_url: http://127.0.0.1:1\nchecks: []\n", 10, 1.0),
]


@pytest.mark.parametrize("text,speed,want", [u[1:] for u in UPTIME], ids=[u[0] for u in UPTIME])
def test_uptime_interval_is_compressed(tmp_path: Path, text: str, speed: float, want: float) -> None:
    from moncheck.stack.config import uptime_interval
    (tmp_path / "monitoring/uptime").mkdir(parents=True)
    (tmp_path / "monitoring/uptime/local.yml").write_text(text)
    assert uptime_interval(tmp_path, speed) == pytest.approx(want)


def test_uptime_interval_of_a_broken_file_names_its_line(tmp_path: Path) -> None:
    from moncheck.smoke.targets import TargetError
    from moncheck.stack.config import uptime_interval
    (tmp_path / "monitoring/uptime").mkdir(parents=True)
    (tmp_path / "monitoring/uptime/local.yml").write_text(_env('"soon"'))
    with pytest.raises(TargetError, match=r"^monitoring/uptime/local.yml:4: "):
        uptime_interval(tmp_path, 60)


def test_uptime_interval_of_repository() -> None:
    from moncheck.stack.config import uptime_interval
    # api_health every 30s is the shortest check of monitoring/uptime/local.yml.
    assert uptime_interval(Path(__file__).resolve().parents[2], 60) == pytest.approx(0.5)


def test_self_scrapes_are_slowed_down_and_the_service_is_not(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    targets = cfg.Targets(service="127.0.0.1:1", prometheus="127.0.0.1:2", alertmanager="127.0.0.1:3")
    derived = cfg.write_prometheus(root, tmp_path, targets, 60)
    jobs = {j["job_name"]: j for j in yaml.safe_load(derived.config_path.read_text())["scrape_configs"]}
    glob_interval = yaml.safe_load(derived.config_path.read_text())["global"]["scrape_interval"]
    metas = [j for j in jobs.values() if cfg.job_role(j) in cfg.META_ROLES]
    assert metas and all(j["scrape_interval"] == j["scrape_timeout"] == "1000ms" for j in metas)
    service = [j for j in jobs.values() if cfg.job_role(j) == "service"]
    assert service and all(j.get("scrape_interval", glob_interval) == "250ms" for j in service)
