"""Child processes of the local stack: own process group, log file, readiness, sure stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


class StackError(Exception):
    """A component could not start or become ready; the message names it and shows its log tail."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound then released; the tiny race is acceptable locally)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


@dataclass
class Proc:
    """One component: ``argv`` run in its own session, output appended to ``log``."""

    name: str
    argv: list[str]
    log: Path
    ready_url: str
    env: dict[str, str] | None = None
    popen: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            try:
                self.popen = subprocess.Popen(
                    self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,  # own process group: stop() reaches its children too
                    env={**os.environ, **(self.env or {})},
                )
            except OSError as e:
                raise StackError(f"{self.name}: cannot start {self.argv[0]}: {e}") from None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.alive():
                code = self.popen.returncode if self.popen else "?"
                raise StackError(
                    f"{self.name} exited with status {code} before it was ready; "
                    f"last lines of {self.log}:\n{tail(self.log)}")
            try:
                r = requests.get(self.ready_url, timeout=1)
                if r.status_code < 500:
                    return
                last = f"HTTP {r.status_code}"
            except requests.RequestException as e:
                last = type(e).__name__
            time.sleep(0.1)
        raise StackError(
            f"{self.name} not ready after {timeout:g}s at {self.ready_url} ({last}); "
            f"last lines of {self.log}:\n{tail(self.log)}")

    def stop(self, timeout: float = 5.0) -> None:
        p = self.popen
        if p is None:
            return
        if p.poll() is None:
            _signal_group(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(p.pid, signal.SIGKILL)
                p.wait(timeout)
        # Children that outlived their leader (same group) go too.
        _signal_group(p.pid, signal.SIGKILL)
        self.popen = None


def stop_all(procs: list[Proc]) -> None:
    """Stop every process, last started first; one that fails to stop does not keep the
    others running."""
    for proc in reversed(procs):
        try:
            proc.stop()
        except Exception:  # noqa: BLE001, S110 - keep stopping the others
            pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
