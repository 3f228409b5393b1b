"""Overhead of the SDKs (sentry-sdk, OpenTelemetry with OTLP/HTTP export) on the reference service.

Runs the reference service twice on loopback, with the SDKs pointed at the telemetry receiver and
with ``--no-telemetry``, and drives each with the same bounded Locust run (ApiUser at maximum rate).
Prints requests/s of each and their ratio. Alternates the two (``--rounds``) so drift on a shared
machine hits both alike.

    .venv/bin/python bench/telemetry.py [--seconds 15] [--users 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]


def _wait(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_once(sdk: bool, receiver_url: str, users: int, seconds: int, logdir: Path) -> dict:
    from moncheck.drills.locust_proc import LocustRun
    from moncheck.drills.spec import Traffic
    from moncheck.stack.procs import free_port
    from moncheck.stack.telemetry import service_env

    port, control = free_port(), free_port()
    argv = [sys.executable, "-m", "moncheck.service", "--port", str(port), "--control-port", str(control),
            "--catalog", str(REPO / "monitoring/catalog/metrics.yml"), "--uptime-interval", "0",
            "--log-file", str(logdir / f"service-{'sdk' if sdk else 'bare'}.log")]
    env = {"PATH": "/usr/bin:/bin", **(service_env(receiver_url) if sdk else {})}
    proc = subprocess.Popen(argv + ([] if sdk else ["--no-telemetry"]), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{port}/health", proc)
        traffic = Traffic(users=users, spawn_rate=users, rate_per_user=0, classes={"ApiUser": 1})
        with LocustRun(f"http://127.0.0.1:{port}", traffic, seconds) as run:
            run.wait(seconds + 30)
            run.stop()
            return run.stats()
    finally:
        _stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if not (1 <= args.users <= 200 and 1 <= args.seconds <= 120 and 1 <= args.rounds <= 5):
        ap.error("bounded: --users 1..200, --seconds 1..120, --rounds 1..5")
    from moncheck.stack.procs import free_port

    rport = free_port()
    receiver_url = f"http://127.0.0.1:{rport}"
    receiver = subprocess.Popen([sys.executable, "-m", "moncheck.stack.telemetry", "--port", str(rport)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rps: dict[bool, list[float]] = {True: [], False: []}
    try:
        _wait(receiver_url + "/health", receiver)
        with tempfile.TemporaryDirectory(prefix="moncheck-bench-") as d:
            for _ in range(args.rounds):
                for sdk in (False, True):
                    st = run_once(sdk, receiver_url, args.users, args.seconds, Path(d))
                    rps[sdk].append(st.get("rps", 0.0))
                    print(f"{'with SDKs   ' if sdk else 'without SDKs'}: {st.get('rps', 0):7.1f} requests/s "
                          f"({st.get('requests', 0):.0f} requests, {st.get('failures', 0):.0f} failures)", flush=True)
        spans = requests.get(receiver_url + "/stats", timeout=5).json()
    finally:
        _stop(receiver)
    bare, sdk = sum(rps[False]) / len(rps[False]), sum(rps[True]) / len(rps[True])
    print(f"mean requests/s: without SDKs {bare:.1f}, with SDKs {sdk:.1f}; ratio with/without {sdk / bare:.3f} "
          f"({args.users} users, {args.seconds}s x {args.rounds} rounds, loopback)")
    print(f"receiver got {spans['spans']} spans in {spans['trace_requests']} OTLP requests, {spans['events']} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
