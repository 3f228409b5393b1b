"""Adoption without a flag day: what keeps an accepted finding out of the gate's result.

Three ways, each with a reason, never silent (suppressed findings are counted and listed by JSON):

- policy suppressions (``policies/policy.yml``: ``{check, target, reason, expires?}``);
- inline disables in the file itself::

      # moncheck disable <check-id> [until YYYY-MM-DD] <reason>        (the rule it sits in or above)
      # moncheck disable-file <check-id> [until YYYY-MM-DD] <reason>   (the whole file)

- a baseline (``--write-baseline FILE`` records today's findings, ``--baseline FILE`` drops them),
  keyed without line numbers so that edits elsewhere in a file keep it valid.

A suppression past its expiry date stops applying (its findings come back) and is reported.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from moncheck.findings import Finding, error, warning
from moncheck.inventory import Inventory
from moncheck.policy import Policy, parse_date

_INLINE = re.compile(r"#\s*moncheck\s+(disable(?:-file)?)\b(.*)$")
_UNTIL = re.compile(r"^until\s+(\S+)\s*")
BASELINE_VERSION = 1


@dataclass(frozen=True)
class Span:
    """Lines ``start..end`` of one rule of a file (its own comments above it included)."""

    start: int
    end: int
    name: str


def rule_spans(inv: Inventory) -> dict[str, list[Span]]:
    """Per rule file, the line span of each rule, in order."""
    out: dict[str, list[Span]] = {}
    for path in {rf.path for rf in inv.rule_files}:
        rules = sorted((r for rf in inv.rule_files if rf.path == path for r in rf.rules), key=lambda r: r.line)
        starts = [r.line for r in rules]
        out[path] = [Span(s, (starts[i + 1] - 1) if i + 1 < len(starts) else 10**9, r.name)
                     for i, (s, r) in enumerate(zip(starts, rules))]
    return out


def span_at(spans: list[Span], line: int) -> Span | None:
    for s in spans:
        if s.start <= line <= s.end:
            return s
    return None


@dataclass
class Inline:
    check: str
    path: str
    line: int  # of the comment
    reason: str
    expires: dt.date | None
    first: int  # lines it covers
    last: int


def _own_span(lines: list[str], i: int, spans: list[Span]) -> tuple[int, int]:
    """Lines a rule-level disable at line ``i`` (1-based) covers: the rule it precedes when only
    comments and blank lines lie between, else the rule it is in, else that line and the next."""
    j = i
    while j < len(lines) and (not lines[j].strip() or lines[j].lstrip().startswith("#")):
        j += 1
    nxt = span_at(spans, j + 1)
    if nxt is not None and nxt.start == j + 1:
        return nxt.start, nxt.end
    cur = span_at(spans, i)
    if cur is not None:
        return cur.start, cur.end
    return i, j + 1


def parse_inline(path: str, text: str, spans: list[Span]) -> tuple[list[Inline], list[Finding]]:
    """Inline disables of one file, and findings about malformed ones."""
    out: list[Inline] = []
    problems: list[Finding] = []
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        m = _INLINE.search(line)
        if not m:
            continue
        words = m.group(2).strip().split(None, 1)
        if not words:
            problems.append(error("policy/suppression", path, i, f"'# moncheck {m.group(1)}' names no check id",
                                  "# moncheck disable <check-id> <reason>"))
            continue
        check, rest = words[0], (words[1] if len(words) > 1 else "")
        expires = None
        um = _UNTIL.match(rest)
        if um:
            expires = parse_date(um.group(1))
            if expires is None:
                problems.append(error("policy/suppression", path, i, f"disable of {check!r}: {um.group(1)!r} is not a date (YYYY-MM-DD)"))
                continue
            rest = rest[um.end():]
        if not rest.strip():
            problems.append(error("policy/suppression", path, i, f"disable of {check!r} has no reason",
                                  "say why after the check id; it is ignored until it does"))
            continue
        first, last = (1, 10**9) if m.group(1) == "disable-file" else _own_span(lines, i, spans)
        out.append(Inline(check, path, i, rest.strip(), expires, first, last))
    return out, problems


def _file_text(inv: Inventory, path: str) -> str | None:
    from moncheck import yamlpos  # read_source never opens a FIFO (it would block the gate)

    try:
        return yamlpos.read_source(inv.abspath(path), path)
    except (yamlpos.LoadError, ValueError):
        return None


# ----------------------------------------------------------------------------- baseline


def baseline_key(f: Finding, spans: dict[str, list[Span]]) -> tuple[str, str, str, str]:
    """(check, path, rule name, message without line numbers): stable across unrelated edits."""
    span = span_at(spans.get(f.path, []), f.line)
    return f.check, f.path, span.name if span else "", re.sub(r":\d+\b", ":N", f.message)


def write_baseline(path: Path, findings: list[Finding], inv: Inventory) -> int:
    from moncheck.atomic import write_text

    spans = rule_spans(inv)
    counts = Counter(baseline_key(f, spans) for f in findings)
    rows = [{"check": k[0], "path": k[1], "rule": k[2], "message": k[3], "count": n} for k, n in sorted(counts.items())]
    write_text(path, json.dumps({"format_version": BASELINE_VERSION, "findings": rows}, indent=2) + "\n")
    return sum(counts.values())


class BaselineError(Exception):
    pass


def read_baseline(path: Path) -> Counter[tuple[str, str, str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file (write one with --write-baseline)") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BaselineError(f"{path}: not a moncheck baseline: {e}") from None
    rows = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(rows, list) or data.get("format_version") != BASELINE_VERSION:
        raise BaselineError(f"{path}: not a moncheck baseline (format_version {BASELINE_VERSION} with findings)")
    out: Counter[tuple[str, str, str, str]] = Counter()
    for r in rows:
        if isinstance(r, dict):
            out[(str(r.get("check")), str(r.get("path")), str(r.get("rule", "")), str(r.get("message")))] += int(r.get("count", 1))
    return out


# ----------------------------------------------------------------------------- applying


@dataclass
class Applied:
    kept: list[Finding]
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # expired or malformed suppressions


def _alert_lines(inv: Inventory) -> dict[tuple[str, int], str]:
    """(file, line) -> alert name, for every line a finding about an alert may point at."""
    out: dict[tuple[str, int], str] = {}
    for r in inv.alerts:
        for ln in (r.line, r.expr_line, *r.key_lines.values(), *r.label_lines.values(), *r.annotation_lines.values()):
            out[(r.file, ln)] = r.name
    return out


def apply(findings: list[Finding], inv: Inventory, pol: Policy, *, today: dt.date | None = None,
          baseline: Counter[tuple[str, str, str, str]] | None = None) -> Applied:
    """Split ``findings`` into kept and suppressed/baselined ones."""
    today = today or dt.date.today()
    res = Applied(kept=[])
    spans = rule_spans(inv)
    active = []
    for s in pol.suppressions:
        if s.expired(today):
            res.problems.append(warning("policy/suppression", s.path or "policies/policy.yml", s.line,
                                        f"suppression of {s.check!r} for {s.target!r} expired on {s.expires}: its findings are back",
                                        "fix them, or extend `expires` with a reason"))
        else:
            active.append(s)
    inline: dict[str, list[Inline]] = {}
    for path in sorted({f.path for f in findings}):
        text = _file_text(inv, path)
        if text is None or "moncheck" not in text:
            continue
        found, problems = parse_inline(path, text, spans.get(path, []))
        res.problems += problems
        for d in found:
            if d.expires is not None and today > d.expires:
                res.problems.append(warning("policy/suppression", path, d.line,
                                            f"disable of {d.check!r} expired on {d.expires}: its findings are back"))
            else:
                inline.setdefault(path, []).append(d)
    alert_at = _alert_lines(inv) if active else {}
    left = Counter(baseline) if baseline else Counter()
    for f in findings:
        if any(s.covers(f, alert_at) for s in active) or any(
            d.first <= f.line <= d.last and fnmatch.fnmatchcase(f.check, d.check) for d in inline.get(f.path, [])
        ):
            res.suppressed.append(f)
            continue
        key = baseline_key(f, spans)
        if left[key] > 0:
            left[key] -= 1
            res.baselined.append(f)
            continue
        res.kept.append(f)
    return res


def inline_ids(inv: Inventory, paths: list[str]) -> list[tuple[str, str, int]]:
    """(check id, file, line) of every inline disable in ``paths`` (for unknown-id warnings)."""
    spans = rule_spans(inv)
    out = []
    for p in paths:
        text = _file_text(inv, p)
        if text and "moncheck" in text:
            out += [(d.check, p, d.line) for d in parse_inline(p, text, spans.get(p, []))[0]]
    return out


__all__ = ["Applied", "BaselineError", "apply", "read_baseline", "rule_spans", "write_baseline"]
