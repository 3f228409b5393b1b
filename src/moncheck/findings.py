"""Findings: what checks return, and the reporters that render them.

Checks never print. A check returns a list of ``Finding``; the CLI collects them all and
hands them to one reporter. Check ids are public (output, docs, suppressions): never rename.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from enum import Enum
from collections.abc import Iterable


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, located at ``path:line`` (path relative to the repository, line 1-based)."""

    path: str
    line: int
    severity: Severity
    check: str
    message: str
    hint: str = field(default="", compare=False)

    def text(self) -> str:
        s = f"{self.path}:{self.line}: {self.severity.value}: {self.check}: {self.message}"
        return f"{s} (hint: {self.hint})" if self.hint else s


def error(check: str, path: str, line: int, message: str, hint: str = "") -> Finding:
    return Finding(path, max(line, 1), Severity.ERROR, check, message, hint)


def warning(check: str, path: str, line: int, message: str, hint: str = "") -> Finding:
    return Finding(path, max(line, 1), Severity.WARNING, check, message, hint)


def info(check: str, path: str, line: int, message: str, hint: str = "") -> Finding:
    return Finding(path, max(line, 1), Severity.INFO, check, message, hint)


def render_text(findings: Iterable[Finding]) -> str:
    return "\n".join(f.text() for f in findings)


def render_json(findings: Iterable[Finding]) -> str:
    rows = []
    for f in findings:
        d = asdict(f)
        d["severity"] = f.severity.value
        rows.append(d)
    return json.dumps(rows, indent=2)


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def render_github(findings: Iterable[Finding]) -> str:
    """GitHub workflow commands: ``::error file=F,line=L,title=ID::message``."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    out = []
    for f in findings:
        msg = f.message + (f" (hint: {f.hint})" if f.hint else "")
        out.append(
            f"::{level[f.severity]} file={_gh_escape(f.path, True)},line={f.line},"
            f"title={_gh_escape(f.check, True)}::{_gh_escape(msg)}"
        )
    return "\n".join(out)


RENDERERS = {"text": render_text, "json": render_json, "github": render_github}


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
