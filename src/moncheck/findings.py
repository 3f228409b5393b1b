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


@dataclass
class Report:
    """What a run hands its reporter: the findings plus the context JSON and SARIF carry."""

    findings: list[Finding]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (check id, reason)
    suppressed: int = 0
    baselined: int = 0


DOCS_BASE = "https://github.com/gocarbontracker/monitoring/blob/main/docs/checks/"
FORMAT_VERSION = 1
# GitHub shows at most 10 error and 10 warning annotations per step; the rest go to the summary.
GITHUB_STEP_LIMIT = 10


def docs_url(check: str) -> str:
    """The documentation page of a check id (tool wrappers share the index page)."""
    if check.startswith(("promtool/", "amtool/")):
        return DOCS_BASE + "README.md#tool-checks"
    return f"{DOCS_BASE}{check}.md"


def _as_report(r: Report | Iterable[Finding]) -> Report:
    return r if isinstance(r, Report) else Report(list(r))


def render_text(findings: Report | Iterable[Finding]) -> str:
    return "\n".join(f.text() for f in _as_report(findings).findings)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Severity}
    for f in findings:
        out[f.severity.value] += 1
    return out


def render_json(report: Report | Iterable[Finding]) -> str:
    """The JSON envelope: format version, counts, skipped checks with reasons, findings with
    their docs URL."""
    r = _as_report(report)
    rows = []
    for f in r.findings:
        d = asdict(f)
        d["severity"] = f.severity.value
        d["docs_url"] = docs_url(f.check)
        rows.append(d)
    envelope = {
        "format_version": FORMAT_VERSION,
        "counts": {**counts(r.findings), "suppressed": r.suppressed, "baselined": r.baselined},
        "skipped": [{"check": c, "reason": why} for c, why in r.skipped],
        "findings": rows,
    }
    return json.dumps(envelope, indent=2)


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


_GH_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _annotation(f: Finding) -> str:
    msg = f.message + (f" (hint: {f.hint})" if f.hint else "")
    return (f"::{_GH_LEVEL[f.severity]} file={_gh_escape(f.path, True)},line={f.line},"
            f"title={_gh_escape(f.check, True)}::{_gh_escape(msg)}")


def github_split(findings: Iterable[Finding], limit: int = GITHUB_STEP_LIMIT) -> tuple[list[Finding], list[Finding]]:
    """(annotated, overflow): the first ``limit`` findings of each level become annotations."""
    shown: list[Finding] = []
    rest: list[Finding] = []
    per: dict[Severity, int] = {}
    for f in findings:
        per[f.severity] = per.get(f.severity, 0) + 1
        (shown if per[f.severity] <= limit else rest).append(f)
    return shown, rest


def render_github(report: Report | Iterable[Finding]) -> str:
    """GitHub workflow commands: ``::error file=F,line=L,title=ID::message`` (every finding;
    ``moncheck check`` moves those past the per-step limit to the job summary)."""
    return "\n".join(_annotation(f) for f in _as_report(report).findings)


def summary_markdown(findings: list[Finding], title: str) -> str:
    """A Markdown table of findings for ``$GITHUB_STEP_SUMMARY``."""
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = [f"### {title}", "", "| file | line | severity | check | message |", "|---|---|---|---|---|"]
    lines += [f"| {cell(f.path)} | {f.line} | {f.severity.value} | [{f.check}]({docs_url(f.check)}) | {cell(f.message)} |"
              for f in findings]
    return "\n".join(lines) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_sarif(report: Report | Iterable[Finding]) -> str:
    """SARIF 2.1.0 for code scanning: one run, a rule per check id (with its docs page), one
    result per finding located by repository-relative URI and line; skipped checks become
    tool execution notifications."""
    from moncheck import __version__

    r = _as_report(report)
    ids = sorted({f.check for f in r.findings})
    index = {c: i for i, c in enumerate(ids)}
    rules = [{"id": c, "name": c.replace("/", "-"), "shortDescription": {"text": f"moncheck check {c}"},
              "helpUri": docs_url(c)} for c in ids]
    results = []
    for f in r.findings:
        text = f.message + (f" (hint: {f.hint})" if f.hint else "")
        results.append({
            "ruleId": f.check,
            "ruleIndex": index[f.check],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path, **({"uriBaseId": "%SRCROOT%"} if not f.path.startswith("/") else {})},
                "region": {"startLine": f.line},
            }}],
        })
    notes = [{"level": "note", "message": {"text": f"{c} skipped: {why}"}, "descriptor": {"id": c}} for c, why in r.skipped]
    run = {
        "tool": {"driver": {"name": "moncheck", "version": __version__,
                            "informationUri": "https://github.com/gocarbontracker/monitoring", "rules": rules}},
        "results": results,
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


RENDERERS = {"text": render_text, "json": render_json, "github": render_github, "sarif": render_sarif}


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
