"""Helpers shared by unit tests (import as ``helpers``: pytest puts this folder on ``sys.path``).
Free ports come from ``moncheck.stack.procs.free_port``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def repo_with(tmp_path: Path, *specs: Path) -> Path:
    """A repository in ``tmp_path`` with the project's metrics catalog and the given SLO specs."""
    (tmp_path / "monitoring/catalog").mkdir(parents=True)
    shutil.copy(ROOT / "monitoring/catalog/metrics.yml", tmp_path / "monitoring/catalog")
    (tmp_path / "monitoring/slos").mkdir(parents=True)
    for s in specs:
        shutil.copy(s, tmp_path / "monitoring/slos" / s.name)
    return tmp_path


def stop(proc: subprocess.Popen[Any], timeout: float = 10) -> int:
    """Stop ``proc`` (SIGTERM, then SIGKILL after ``timeout`` s) and return its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_http(url: str, proc: subprocess.Popen[Any], seconds: float = 15) -> None:
    """Wait until ``url`` answers (any status); RuntimeError if ``proc`` exits or time runs out."""
    import time

    import requests
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not up within {seconds}s")
