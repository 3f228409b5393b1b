"""Scores of a mutation run against the policy, as findings and as a documented JSON object
(``docs/mutate.md``)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from moncheck.findings import Finding, Severity, error, warning
from moncheck.inventory import Rule
from moncheck.mutate import operators
from moncheck.mutate.policy import Equivalent, MutatePolicy, stale
from moncheck.mutate.runner import (
    KILLED,
    STILLBORN,
    SURVIVED,
    TIMEOUT,
    Outcome,
    RunResult,
)

JSON_VERSION = 1
SCORE = "mutate/score"
TIMEOUT_ID = "mutate/timeout"
BASELINE = "mutate/baseline"
HINT = ("add a test case whose result differs under this change, or, if no input can tell them "
        "apart, list it under mutate.equivalent in policies/policy.yml with the reason")
UNOBSERVED_HINT = "no promtool test group tests this alert or reads this rule's series"


def _pct(killed: int, total: int) -> float:
    return 100.0 * killed / total if total else 100.0


@dataclass
class RuleScore:
    rule: Rule
    required: float
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def severity(self) -> str | None:
        return self.rule.labels.get("severity") if self.rule.kind == "alert" else None

    @property
    def total(self) -> int:
        return self.counts[KILLED] + self.counts[SURVIVED]

    @property
    def score(self) -> float:
        return _pct(self.counts[KILLED], self.total)

    @property
    def ok(self) -> bool:
        return self.score >= self.required and not self.counts[TIMEOUT]


@dataclass
class Report:
    result: RunResult
    rules: list[RuleScore]
    survivors: list[Outcome]
    equivalent: list[tuple[Outcome, Equivalent]]
    timeouts: list[Outcome]
    findings: list[Finding]
    jobs: int

    def count(self, status: str) -> int:
        return sum(r.counts[status] for r in self.rules)

    @property
    def score(self) -> float:
        return _pct(self.count(KILLED), self.count(KILLED) + self.count(SURVIVED))

    def by_operator(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        eq = {id(o) for o, _ in self.equivalent}
        for op in operators.OPERATOR_IDS:
            os_ = [o for o in self.result.outcomes if o.mutant.operator == op]
            c = Counter("equivalent" if id(o) in eq else o.status for o in os_)
            out[op] = {"killed": c[KILLED], "survived": c[SURVIVED], "stillborn": c[STILLBORN],
                       "equivalent": c["equivalent"], "timeout": c[TIMEOUT],
                       "score": round(_pct(c[KILLED], c[KILLED] + c[SURVIVED]), 1)}
        return out

    @property
    def exit_status(self) -> int:
        return 1 if any(f.severity is Severity.ERROR for f in self.findings) else 0


def evaluate(result: RunResult, pol: MutatePolicy, jobs: int) -> Report:
    scores: dict[int, RuleScore] = {}
    survivors: list[Outcome] = []
    equivalent: list[tuple[Outcome, Equivalent]] = []
    timeouts: list[Outcome] = []
    for o in result.outcomes:
        r = o.mutant.rule
        rs = scores.setdefault(id(r), RuleScore(r, pol.required(r.labels.get("severity") if r.kind == "alert" else None)))
        status = o.status
        if status == SURVIVED and (eq := pol.equivalent_of(o.mutant)) is not None:
            equivalent.append((o, eq))
            status = "equivalent"
        elif status == SURVIVED:
            survivors.append(o)
        elif status == TIMEOUT:
            timeouts.append(o)
        rs.counts[status] += 1
    rules = list(scores.values())
    findings: list[Finding] = [
        error(BASELINE, f, 1, "the tests fail without any mutation, so no mutant can be judged",
              "make them pass first (moncheck check shows the failing groups)") if not why else
        error(TIMEOUT_ID, f, 1, f"the tests without any mutation: {why}",
              "raise --timeout (or mutate.timeout in the policy) on a slow machine")
        for f, why in result.baseline_failures
    ]
    failing = {id(rs.rule) for rs in rules if not rs.ok}
    for o in survivors:
        m = o.mutant
        make = error if id(m.rule) in failing else warning
        findings.append(make(m.check, m.rule.file, m.line, f"survived: {m.old} -> {m.new}",
                             UNOBSERVED_HINT if not o.tests else HINT))
    for o in timeouts:
        m = o.mutant
        findings.append(error(TIMEOUT_ID, m.rule.file, m.line,
                              f"{m.operator} mutant {m.old} -> {m.new}: {o.detail}",
                              "raise --timeout (or mutate.timeout in the policy) on a slow machine"))
    for rs in rules:
        if not rs.ok:
            sev = f" ({rs.severity})" if rs.severity else ""
            findings.append(error(
                SCORE, rs.rule.file, rs.rule.line,
                f"{rs.rule.name}{sev}: {rs.counts[KILLED]}/{rs.total} mutants killed "
                f"({rs.score:.1f}%), the policy requires {rs.required:g}%"
                + (f"; {rs.counts[TIMEOUT]} timed out" if rs.counts[TIMEOUT] else "")))
    for file, line, name, err in result.unparsable:
        findings.append(warning(SCORE, file, line, f"{name}: not mutated, the expression does not parse: {err}"))
    findings += pol.findings
    findings += stale(pol, {e for _, e in equivalent}, {rs.rule.name for rs in rules})
    return Report(result, rules, survivors, equivalent, timeouts, findings, jobs)


# ------------------------------------------------------------------ rendering


def summary(rep: Report) -> str:
    below = sum(not rs.ok for rs in rep.rules)
    return (f"moncheck mutate: {rep.count(KILLED)}/{rep.count(KILLED) + rep.count(SURVIVED)} mutants "
            f"killed ({rep.score:.1f}%), {rep.count(STILLBORN)} stillborn, "
            f"{rep.count('equivalent')} equivalent, {rep.count(TIMEOUT)} timed out; "
            f"{below} rule{'s' * (below != 1)} below the policy "
            f"({rep.result.elapsed_s:.1f}s, {rep.result.promtool_calls} promtool runs, {rep.jobs} jobs)")


def render_text(rep: Report) -> str:
    lines = []
    for rs in rep.rules:
        sev = f" ({rs.severity})" if rs.severity else ""
        flag = "" if rs.ok else f"  below {rs.required:g}%"
        lines.append(f"{rs.rule.file}:{rs.rule.line}: {rs.rule.name}{sev}: "
                     f"{rs.counts[KILLED]}/{rs.total} killed ({rs.score:.1f}%){flag}")
    for o in rep.survivors:
        m = o.mutant
        lines.append(f"{m.rule.file}:{m.line}: {m.check}: survived: {m.old} -> {m.new}")
    survivor_ids = set(operators.CHECK_IDS.values())
    lines += [f.text() for f in rep.findings
              if not (f.check in survivor_ids or (f.check == SCORE and f.severity is Severity.ERROR))]
    lines.append(summary(rep))
    return "\n".join(lines)


def _mutant(o: Outcome) -> dict[str, Any]:
    m = o.mutant
    return {
        "file": m.rule.file, "line": m.line, "rule": m.rule.name, "kind": m.rule.kind,
        "operator": m.operator, "check": m.check, "original": m.old, "mutated": m.new,
        "original_expr": m.rule.expr.strip(), "mutated_expr": m.value if m.key == "expr" else m.rule.expr.strip(),
        "key": m.key, "tests": o.tests, "status": o.status,
    }


def to_json(rep: Report) -> dict[str, Any]:
    def finding(f: Finding) -> dict[str, Any]:
        d = asdict(f)
        d["severity"] = f.severity.value
        return d

    return {
        "version": JSON_VERSION,
        "score": round(rep.score, 2),
        "mutants": len(rep.result.outcomes),
        "killed": rep.count(KILLED), "survived": rep.count(SURVIVED), "stillborn": rep.count(STILLBORN),
        "equivalent": rep.count("equivalent"), "timeout": rep.count(TIMEOUT),
        "ok": rep.exit_status == 0,
        "elapsed_s": round(rep.result.elapsed_s, 3), "promtool_calls": rep.result.promtool_calls,
        "jobs": rep.jobs, "test_files": rep.result.test_files,
        "operators": rep.by_operator(),
        "rules": [{"file": rs.rule.file, "line": rs.rule.line, "rule": rs.rule.name, "kind": rs.rule.kind,
                   "severity": rs.severity, "killed": rs.counts[KILLED], "survived": rs.counts[SURVIVED],
                   "stillborn": rs.counts[STILLBORN], "equivalent": rs.counts["equivalent"],
                   "timeout": rs.counts[TIMEOUT], "score": round(rs.score, 2), "required": rs.required,
                   "ok": rs.ok} for rs in rep.rules],
        "survivors": [_mutant(o) for o in rep.survivors],
        "equivalent_mutants": [{**_mutant(o), "reason": e.reason} for o, e in rep.equivalent],
        "timeouts": [{**_mutant(o), "detail": o.detail} for o in rep.timeouts],
        "findings": [finding(f) for f in sorted(rep.findings)],
    }


def render_json(rep: Report) -> str:
    return json.dumps(to_json(rep), indent=2)
