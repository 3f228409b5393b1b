"""Child processes of the local stack: own process group, parent-death signal, log file, sure stop.

Every process moncheck starts for a stack or a load run goes through ``spawn``: it runs in its own
session (so a Ctrl-C on the terminal reaches moncheck only, and ``killpg`` reaches the child's own
children), and the kernel sends it SIGKILL when the moncheck thread that started it dies, even by
SIGKILL (``prctl(PR_SET_PDEATHSIG)``). SIGINT and SIGTERM are blocked around the fork so a signal
cannot land between the fork and the moment the caller records the child.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from moncheck.stack import signals

PR_SET_PDEATHSIG = 1
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class StackError(Exception):
    """A component could not start or become ready; the message names it and shows its log tail."""


_handed: set[int] = set()
_handed_lock = threading.Lock()


def free_port() -> int:
    """A free TCP port on 127.0.0.1, never one this process handed out before.

    Bound then released, so another program may still take it before our child binds it; stacks
    started in parallel in this process cannot collide with each other (``Stack`` retries a start
    that lost a port to someone else).
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with _handed_lock:
            if port not in _handed:
                _handed.add(port)
                return port


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _load_prctl() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):  # not Linux: process groups and the stop path remain
        return None


# Resolved once in the parent: the child after fork must not load libraries or take locks.
_PRCTL = _load_prctl()


def _child_setup(parent: int) -> None:
    """Runs in the child between fork and exec (keep it to system calls)."""
    os.setsid()
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block ends (they are delivered then, not lost)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def spawn(argv: list[str], out: IO[bytes] | int, env: dict[str, str] | None = None,
          on_started: Any = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, killed by the kernel if its parent dies.

    ``on_started(popen)`` runs while SIGINT/SIGTERM are still held, so the caller records the
    child before any interruption can unwind past it.
    """
    parent = os.getpid()
    with signals_deferred():
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, preexec_fn=lambda: _child_setup(parent))
        if on_started is not None:
            on_started(p)
    return p


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_popen(p: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM the child's process group, SIGKILL after ``timeout``; always reaps the child."""
    if p.poll() is None:
        signal_group(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            signal_group(p.pid, signal.SIGKILL)
            p.wait(timeout)
    # Children that outlived their leader (same group) go too.
    signal_group(p.pid, signal.SIGKILL)


@dataclass
class Proc:
    """One component: ``argv`` run by ``spawn``, output appended to ``log``."""

    name: str
    argv: list[str]
    log: Path
    ready_url: str
    env: dict[str, str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    on_started: Any = field(default=None, repr=False)  # called with the Proc once it has a pid

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            try:
                spawn(self.argv, out, {**os.environ, **(self.env or {})}, self._started)
            except OSError as e:
                raise StackError(f"{self.name}: cannot start {self.argv[0]}: {e}") from None

    def _started(self, p: subprocess.Popen[bytes]) -> None:
        self.popen = p
        if self.on_started is not None:
            self.on_started(self)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if signals.interrupted():
                raise StackError(f"{self.name}: interrupted before it was ready")
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
        if self.popen is not None:
            stop_popen(self.popen, timeout)
        self.popen = None


def stop_all(procs: list[Proc]) -> None:
    """Stop every process, last started first; one that fails to stop does not keep the
    others running."""
    for proc in reversed(procs):
        try:
            proc.stop()
        except Exception:  # noqa: BLE001, S110 - keep stopping the others
            pass
