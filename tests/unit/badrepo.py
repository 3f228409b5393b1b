"""Broken copies of this repository, described in ``tests/fixtures/bad/repo-cases.yml``
(shared by ``test_bad_repo.py`` and ``bench/badinput.py``)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = ROOT / "tests/fixtures/bad/repo-cases.yml"
PARTS = ("moncheck.yml", "monitoring", "policies", "tests/rules")
_REPEAT = re.compile(r"\{\{(.+?)\*(\d+)\}\}", re.DOTALL)


def cases() -> list[dict[str, Any]]:
    return yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def expand(text: str) -> str:
    """``{{X*N}}`` -> X repeated N times."""
    return _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), text)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    elif os.path.lexists(p):
        p.unlink()


def copy_repo(dest: Path, case: dict[str, Any]) -> Path:
    """A copy of this repository's artifacts in ``dest`` with the case's ``ops`` applied.
    ``.github/`` is copied only for cases that touch it (its check costs a subprocess)."""
    ops = case.get("ops") or []
    parts = PARTS + ((".github",) if any(".github" in str(op) for op in ops) else ())
    for part in parts:
        if (ROOT / part).is_file():
            shutil.copy2(ROOT / part, dest / part)
        else:
            shutil.copytree(ROOT / part, dest / part, symlinks=True)
    for op in ops:
        (kind, arg), = op.items()
        if kind == "write":
            p = dest / arg["path"]
            p.parent.mkdir(parents=True, exist_ok=True)
            _remove(p)
            p.write_bytes(expand(arg["text"]).encode(arg.get("encoding", "utf-8")))
            continue
        target = dest / (arg["path"] if isinstance(arg, dict) else arg)
        if kind == "delete":
            _remove(target)
        elif kind in ("mkdir", "empty"):
            if kind == "empty" and target == dest:
                for child in dest.iterdir():
                    _remove(child)
                continue
            _remove(target)
            target.mkdir(parents=True)
        elif kind == "fifo":
            _remove(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(target)
        elif kind == "symlink":
            _remove(target)
            target.symlink_to(arg["to"])
        else:
            raise ValueError(f"unknown op {kind!r} in {case['id']}")
    return dest
