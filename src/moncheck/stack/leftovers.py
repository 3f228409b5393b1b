"""What a stack leaves behind if moncheck itself is killed, and how the next start removes it.

Each stack directory (``$TMPDIR/moncheck-stack-*``) holds ``stack.json``: the owning moncheck
process and every process started for the stack, each as pid plus its kernel start time (so a
recycled pid is never mistaken for ours). The parent-death signal already kills the children of
a SIGKILLed moncheck; ``reap`` finishes the job at the next start: it kills what is still running
of a stack whose owner is gone and removes its directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from moncheck import atomic

PREFIX = "moncheck-stack-"
MARKER = "stack.json"
# A directory without a marker is at most a few microseconds old while its owner lives (the
# marker is written right after the directory is made): older than this, its owner is gone.
ORPHAN_AGE_S = 600.0


def start_time(pid: int) -> int | None:
    """The process' start time in clock ticks since boot (field 22 of /proc/PID/stat), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def alive(pid: int, started: int | None) -> bool:
    """``pid`` runs and is the process that was recorded (not a recycled pid)."""
    now = start_time(pid)
    return now is not None and (started is None or now == started)


@dataclass
class Marker:
    """The ``stack.json`` of one stack directory, rewritten atomically on every change."""

    dir: Path
    owner: int = field(default_factory=os.getpid)
    procs: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def write(self) -> None:
        doc = {"owner": {"pid": self.owner, "start": start_time(self.owner)},
               "procs": [{"name": n, "pid": p, "start": s} for n, (p, s) in self.procs.items()]}
        atomic.write_text(self.dir / MARKER, json.dumps(doc, indent=1) + "\n")

    def add(self, name: str, pid: int) -> None:
        with self._lock:
            self.procs[name] = (pid, start_time(pid))
            self.write()


def make_dir(root: Path | None = None) -> Marker:
    """A fresh stack directory under ``root`` (default ``$TMPDIR``) with its marker written."""
    d = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
    marker = Marker(d)
    marker.write()
    return marker


def reap(root: Path | None = None) -> list[str]:
    """Kill and remove what stacks of dead moncheck processes left; one line per stack reaped."""
    base = Path(root or tempfile.gettempdir())
    out: list[str] = []
    try:
        dirs = sorted(base.glob(PREFIX + "*"))
    except OSError:
        return out
    for d in dirs:
        if not d.is_dir() or d.is_symlink():
            continue
        try:
            doc = json.loads((d / MARKER).read_text(encoding="utf-8"))
            owner = doc["owner"]
            procs = [(str(p["name"]), int(p["pid"]), p.get("start")) for p in doc["procs"]]
            if alive(int(owner["pid"]), owner.get("start")):
                continue
        except FileNotFoundError:
            try:
                if time.time() - d.stat().st_mtime < ORPHAN_AGE_S:
                    continue
            except OSError:
                continue
            procs = []
        except (OSError, ValueError, KeyError, TypeError):
            procs = []  # unreadable marker: the directory is ours by name, its processes unknown
        killed = []
        for name, pid, started in procs:
            if alive(pid, started):
                # Each child leads its own process group (own session): take the group.
                for kill in (os.killpg, os.kill):
                    try:
                        kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                killed.append(f"{name} (pid {pid})")
        shutil.rmtree(d, ignore_errors=True)
        out.append(f"removed leftovers of a killed run: {d}"
                   + (f"; killed {', '.join(killed)}" if killed else ""))
    return out
