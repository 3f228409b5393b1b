"""Locust as a subprocess (its gevent monkey-patching must stay out of our process), always bounded."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Self
from urllib.parse import urlparse

from moncheck.drills.spec import Traffic
from moncheck.netutil import is_loopback
from moncheck.stack.procs import free_port, signal_group, spawn

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
                 allow_remote: bool = False, parent: Path | None = None,
                 track: Callable[[str, subprocess.Popen[bytes]], None] | None = None) -> None:
        """``parent``: directory to work in (the stack's, removed with it); ``track(name, popen)``
        records each process in the stack's marker (``moncheck.stack.leftovers``)."""
        check_host(host, allow_remote)
        if traffic.users > MAX_USERS:
            raise LoadError(f"{traffic.users} users exceeds the bound of {MAX_USERS}")
        self.host, self.traffic, self.workers = host, traffic, workers
        self.run_time_s = max(1, min(int(run_time_s + 0.999), MAX_RUN_TIME_S))
        self.dir = Path(tempfile.mkdtemp(prefix="moncheck-locust-", dir=parent))
        self.track = track
        self.procs: list[subprocess.Popen[bytes]] = []
        self._log: IO[bytes] | None = None

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
        for i, argv in enumerate([master, *workers]):
            spawn(argv, log, env, self._started(f"locust-{self.dir.name}-{i}"))

    def _started(self, name: str) -> Callable[[subprocess.Popen[bytes]], None]:
        def record(p: subprocess.Popen[bytes]) -> None:
            self.procs.append(p)
            if self.track is not None:
                self.track(name, p)
        return record

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
                signal_group(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                signal_group(p.pid, signal.SIGKILL)
                p.wait(5)
        self.procs = []
        if self._log is not None:
            self._log.close()
            self._log = None

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

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

