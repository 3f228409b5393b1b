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
