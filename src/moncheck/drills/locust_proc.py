"""Locust as a subprocess (its gevent monkey-patching must stay out of our process), always bounded."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from moncheck.drills.spec import Traffic
from moncheck.netutil import is_loopback
from moncheck.stack.procs import free_port

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
MAX_USERS = 500
MAX_RUN_TIME_S = 900


class LoadError(Exception):
    pass


def check_host(url: str, allow_remote: bool) -> None:
    """Refuse a non-loopback target unless explicitly allowed."""
    if allow_remote or is_loopback(url):
        return
    host = urlparse(url).hostname or ""
    raise LoadError(f"refusing to send load to {host!r}: only loopback targets unless --allow-remote")


def locust_binary() -> list[str]:
    exe = Path(sys.executable).with_name("locust")
    return [str(exe)] if exe.exists() else [shutil.which("locust") or "locust"]


class LocustRun:
    """One headless run (``workers`` > 0: one master plus that many workers), bounded in time."""

    def __init__(self, host: str, traffic: Traffic, run_time_s: float, *, workers: int = 0,
                 allow_remote: bool = False) -> None:
        check_host(host, allow_remote)
        if traffic.users > MAX_USERS:
            raise LoadError(f"{traffic.users} users exceeds the bound of {MAX_USERS}")
        self.host, self.traffic, self.workers = host, traffic, workers
        self.run_time_s = max(1, min(int(run_time_s + 0.999), MAX_RUN_TIME_S))
        self.dir = Path(tempfile.mkdtemp(prefix="moncheck-locust-"))
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        t = self.traffic
        env = {**os.environ, "MONCHECK_RATE": str(t.rate_per_user),
               "MONCHECK_WEIGHTS": ",".join(f"{k}={v}" for k, v in t.classes.items()),
               "PYTHONUNBUFFERED": "1"}
        base = [*locust_binary(), "-f", str(LOCUSTFILE), "--skip-log-setup", "--loglevel", "WARNING"]
        classes = list(t.classes)
        master = [*base, "--headless", "-u", str(t.users), "-r", str(t.spawn_rate),
                  "--run-time", f"{self.run_time_s}s", "--host", self.host, "--csv",
                  str(self.dir / "run"), "--only-summary", "--stop-timeout", "2", *classes]
        if self.workers:
            port = free_port()
            master += ["--master", "--expect-workers", str(self.workers), "--master-bind-host", "127.0.0.1",
                       "--master-bind-port", str(port)]
            workers = [[*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port), *classes]
                       for _ in range(self.workers)]
        else:
            workers = []
        log = open(self.dir / "locust.log", "ab")
        self._log = log
        for argv in [master, *workers]:
            self.procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                               stdin=subprocess.DEVNULL, start_new_session=True))

    def running(self) -> bool:
        return bool(self.procs) and self.procs[0].poll() is None

    def wait(self, timeout: float) -> None:
        try:
            self.procs[0].wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                _group(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                _group(p.pid, signal.SIGKILL)
                p.wait(5)
        self.procs = []
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None  # type: ignore[assignment]

    def stats(self) -> dict[str, float]:
        """Aggregated requests, failures and requests/s from Locust's CSV (empty when absent)."""
        path = self.dir / "run_stats.csv"
        try:
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    if row.get("Name") == "Aggregated":
                        return {"requests": float(row["Request Count"]), "failures": float(row["Failure Count"]),
                                "rps": float(row["Requests/s"])}
        except (OSError, KeyError, ValueError):
            pass
        return {}

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join((self.dir / "locust.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LocustRun:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
