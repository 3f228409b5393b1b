"""Smoke-check figures: wall time against the local stack (stack start excluded), flake count over
N runs, and the time to a verdict with the service stopped.

    .venv/bin/python bench/smoke.py [--runs 20]

Starts one local stack (loopback only), runs `pytest -m smoke` against it N times with its URLs
passed as options, then stops the reference service and runs once more. Stops everything on exit.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 15.0


def run_smoke(stack, extra: list[str] | None = None) -> tuple[int, float, str]:
    argv = [sys.executable, "-m", "pytest", "-m", "smoke", str(REPO / "tests/smoke"), "-q", "-p", "no:cacheprovider",
            "--service-url", stack.service_url, "--prometheus-url", stack.prometheus_url,
            "--alertmanager-url", stack.alertmanager_url, *(extra or [])]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - start
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("SMOKE ")), "(no summary line)")
    return proc.returncode, elapsed, line


def report_report(stack) -> None:
    """Build time of `moncheck report` (a whole process, Great Expectations import included)."""
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "moncheck.cli", "report", "--prometheus", stack.prometheus_url,
                "--alertmanager", stack.alertmanager_url, "--service", stack.service_url,
                "--since", "1h", "--out", out]
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)
        elapsed = time.monotonic() - start
    first = (proc.stdout or proc.stderr).strip().splitlines()[:1]
    print(f"daily report: exit {proc.returncode} after {elapsed:.2f}s ({first[0] if first else ''})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--speed", type=float, default=30.0)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from moncheck.stack import Stack

    with Stack(REPO, speed=args.speed) as stack:
        if hasattr(stack, "wait_targets_up"):
            stack.wait_targets_up()
        times, flakes = [], []
        for i in range(args.runs):
            rc, elapsed, line = run_smoke(stack)
            times.append(elapsed)
            if rc != 0:
                flakes.append(f"run {i + 1}: {line}")
        print(f"healthy stack: {args.runs} runs, {len(flakes)} failed (flakes); wall time "
              f"median {statistics.median(times):.2f}s, max {max(times):.2f}s (goal < {BUDGET_S:g}s)")
        for f in flakes:
            print("  " + f)
        report_report(stack)
        stack.procs["service"].stop()
        time.sleep(max(1.0, 2 * 15.0 / args.speed))  # let Prometheus see the target down
        rc, elapsed, line = run_smoke(stack)
        failed = re.sub(r"^SMOKE CRITICAL - ", "", line.split(" | ")[0])
        print(f"service stopped: exit {rc} after {elapsed:.2f}s (budget {BUDGET_S:g}s): {failed}")
        ok = not flakes and rc != 0 and elapsed < BUDGET_S and max(times) < BUDGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
