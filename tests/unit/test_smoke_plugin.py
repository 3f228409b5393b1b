"""The smoke plugin end to end against dead ports: fails fast, one line per check, summary names them."""

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUDGET_S = 15.0


def test_dead_target_fails_within_budget_naming_checks(tmp_path):
    dead = "http://127.0.0.1:9"
    argv = [sys.executable, "-m", "pytest", "-m", "smoke", str(REPO / "tests/smoke"), "-q", "-p", "no:cacheprovider",
            "--service-url", dead, "--prometheus-url", dead, "--alertmanager-url", dead,
            "--junitxml", str(tmp_path / "j.xml"), "--smoke-summary", str(tmp_path / "s.md")]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert elapsed < BUDGET_S
    summary = [ln for ln in proc.stdout.splitlines() if ln.startswith("SMOKE ")]
    assert len(summary) == 1 and summary[0].startswith("SMOKE CRITICAL - ")
    for name in ("test_uptime[homepage]", "test_health_schema_and_status", "test_prometheus_ready",
                 "test_alertmanager_ready"):
        assert name in summary[0]
    # One line per failure: what, against what, what came back.
    assert "uptime homepage [http://127.0.0.1:9/]: cannot connect: Connection refused (" in proc.stdout
    assert "Traceback" not in proc.stdout
    md = (tmp_path / "s.md").read_text()
    assert md.startswith("## Smoke checks (local)") and "❌ FAIL" in md
    assert "<testcase" in (tmp_path / "j.xml").read_text()


def test_bad_env_file_is_reported_once_with_location(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "smoke", str(REPO / "tests/smoke"), "-q",
                           "-p", "no:cacheprovider", "--env", "no-such-env"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "monitoring/uptime/no-such-env.yml: no such environment" in proc.stdout
