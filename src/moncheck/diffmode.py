"""Pull-request mode: which lines changed since a git ref, so the gate reports only findings on
changed rules and lines while checking with the whole repository as context."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from moncheck.findings import Finding
from moncheck.suppress import Span, span_at

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")

Changes = dict[str, "set[int] | None"]
"""Repository-relative path -> changed lines of the new version (None: the whole file is new)."""


class DiffError(Exception):
    pass


def _git(repo: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise DiffError("--base needs git on PATH") from None
    except subprocess.TimeoutExpired:
        raise DiffError(f"git {' '.join(args)} timed out") from None
    if proc.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'failed'}")
    return proc.stdout


def parse_diff(text: str) -> Changes:
    """Changed lines per file from ``git diff -U0`` output (deletions mark the line after them)."""
    out: Changes = {}
    path: str | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:].strip()
            path = None if target == "/dev/null" else target[2:] if target.startswith("b/") else target
            if path is not None:
                out.setdefault(path, set())
        elif path is not None and (m := _HUNK.match(line)):
            start, count = int(m.group(1)), int(m.group(2) or 1)
            lines = out[path]
            assert lines is not None
            lines.update(range(start, start + count) if count else (max(start, 1), start + 1))
    return out


def changed_since(repo: Path, ref: str) -> Changes:
    """Lines changed between the merge base of ``ref`` and HEAD and the working tree, plus
    untracked files (whole)."""
    base = _git(repo, "merge-base", ref, "HEAD").strip()
    changes = parse_diff(_git(repo, "diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", base, "--"))
    for rel in _git(repo, "ls-files", "--others", "--exclude-standard").splitlines():
        if rel:
            changes[rel] = None
    return changes


def on_changes(findings: list[Finding], changes: Changes, spans: dict[str, list[Span]], repo: Path) -> list[Finding]:
    """Findings on a changed line, or on a rule one of whose lines changed. Findings not about a
    repository file (a tool that could not run) are kept."""
    out = []
    for f in findings:
        if f.path not in changes:
            if not (repo / f.path).is_file():
                out.append(f)
            continue
        lines = changes[f.path]
        if lines is None or f.line in lines:
            out.append(f)
            continue
        span = span_at(spans.get(f.path, []), f.line)
        if span is not None and any(span.start <= ln <= span.end for ln in lines):
            out.append(f)
    return out
