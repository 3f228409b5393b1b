"""Broken copies of this repository (``tests/fixtures/bad/repo-cases.yml``): each yields its
exact finding (check id, file, line, message) and exit status, never an internal error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from badrepo import cases, copy_repo

from moncheck.commands.check import exit_status
from moncheck.gate import run_gate

CASES = cases()
GATE = [c for c in CASES if "cli" not in c]
CLI = [c for c in CASES if "cli" in c]


def _needs(case: dict[str, Any]) -> None:
    if case.get("tools"):
        from moncheck.tools import ToolMissing, find_binary

        try:
            find_binary("promtool")
            find_binary("amtool")
        except ToolMissing as e:
            pytest.fail(f"{case['id']} needs the real tools: {e}")


@pytest.mark.parametrize("case", GATE, ids=[c["id"] for c in GATE])
def test_broken_repository_gives_its_finding(case: dict[str, Any], tmp_path: Path) -> None:
    _needs(case)
    repo = copy_repo(tmp_path, case)
    result = run_gate(repo, tools=bool(case.get("tools")))
    shown = "\n".join(f.text() for f in result.findings)
    assert not [f for f in result.findings if f.path == "moncheck" or "internal error" in f.message], shown
    expect = case["expect"]
    if expect is None:
        assert exit_status(result.findings) == 0, shown
        return
    hits = [f for f in result.findings if (f.check, f.path, f.line) == (expect["check"], expect["file"], expect["line"])]
    assert hits, shown
    if "message" in expect:
        assert any(f.message.startswith(expect["message"]) for f in hits), shown
    assert exit_status(result.findings) == expect.get("exit", 1)


@pytest.mark.parametrize("case", CLI, ids=[c["id"] for c in CLI])
def test_broken_invocation_is_a_one_line_usage_error(case: dict[str, Any], tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, case)
    proc = subprocess.run([sys.executable, "-m", "moncheck.cli", *case["cli"]], cwd=repo, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, check=False)
    assert proc.returncode == case["expect"]["exit"], proc.stderr
    assert proc.stderr.strip().splitlines()[0].startswith(case["expect"]["stderr"]), proc.stderr
    assert "Traceback" not in proc.stderr
