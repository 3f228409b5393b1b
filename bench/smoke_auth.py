"""Smoke, report and ``slo report`` against the authenticated local deployment.

Starts ``moncheck.smoke.secure.SecureStack`` (real Prometheus and Alertmanager behind
``--web.config.file``: TLS with a CA generated for the run, basic auth, and a client certificate for
Prometheus), sends a few seconds of loopback traffic, then runs each command with the right
credentials and with a wrong password, and prints wall time, exit status and the summary line:

    .venv/bin/python bench/smoke_auth.py [--warmup 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    t = time.perf_counter()
    r = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    lines = [ln for ln in (r.stdout + r.stderr).splitlines()
             if ln.startswith(("SMOKE ", "moncheck report:", "moncheck: error:"))]
    if not lines and r.returncode == 0:  # slo report: a table, one row per SLO
        rows = [ln for ln in r.stdout.splitlines() if ln.rstrip().endswith(("ok", "BREACHED", "no data"))]
        lines = [f"{len(rows)} SLOs reported"]
    return time.perf_counter() - t, r.returncode, (lines[-1] if lines else (r.stdout + r.stderr).strip()[-160:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds of loopback traffic first")
    args = ap.parse_args()
    from moncheck import toolchain
    from moncheck.report.traffic import drive
    from moncheck.smoke.secure import PASSWORD_ENV, SecureStack

    py = str(Path(sys.executable))
    print(f"bench/smoke_auth: {toolchain.record().text()}")
    with tempfile.TemporaryDirectory(prefix="moncheck-bench-") as tmp, SecureStack(REPO) as s:
        envf = str(s.env_file(Path(tmp) / "secure.yml"))
        drive(s.service_url, min(args.warmup, 60.0))
        right = {**os.environ, **s.telemetry_env(), PASSWORD_ENV: s.password}
        wrong = {**os.environ, **s.telemetry_env(), PASSWORD_ENV: "not-the-password"}
        runs = [
            ("smoke (pytest -m smoke)", [py, "-m", "pytest", "-p", "no:cacheprovider", "-m", "smoke", "-q",
                                         "--env", envf, "tests/smoke"]),
            ("report", [py, "-m", "moncheck.cli", "report", "--env", envf, "--since", "5m",
                        "--out", str(Path(tmp) / "report")]),
            ("slo report", [py, "-m", "moncheck.cli", "slo", "report", "--env", envf]),
        ]
        print(f"{'command':<26} {'credentials':<12} {'exit':>4} {'seconds':>8}  result")
        for name, argv in runs:
            for label, env in (("right", right), ("wrong", wrong)):
                seconds, rc, line = _run(argv, env)
                print(f"{name:<26} {label:<12} {rc:>4} {seconds:>8.2f}  {line[:150]}")
        summary = Path(tmp) / "report" / "report.json"
        if summary.is_file():
            doc = json.loads(summary.read_text())
            phases = ", ".join(f"{k} {v:.2f}s" for k, v in doc.get("build_phases", {}).items())
            print(f"report build (inside the process): {doc['build_seconds']:.2f}s ({phases})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
