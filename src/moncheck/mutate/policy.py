"""The ``mutate:`` section of ``policies/policy.yml``: minimum scores and equivalent mutants.

```yaml
mutate:
  min_score: {critical: 100, high: 100, default: 95}   # percent, per alert severity
  timeout: 60s                                          # per promtool run
  equivalent:                                           # mutants that cannot change the result
    - rule: HighErrorRate
      operator: comparison
      mutant: "x > 0.05 -> x >= 0.05"                   # as the survivor line prints it
      reason: why no input can tell the two apart
```

Without a policy (loose paths) every rule needs 100%: any survivor fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moncheck import durations
from moncheck.findings import Finding, warning
from moncheck.mutate.mutants import Mutant
from moncheck.yamlpos import line_of

SUPPRESSION = "policy/suppression"
DEFAULT = "default"


@dataclass(frozen=True)
class Equivalent:
    rule: str
    operator: str
    mutant: str
    reason: str
    line: int

    def covers(self, m: Mutant) -> bool:
        return (m.rule.name == self.rule and m.operator == self.operator
                and " ".join(self.mutant.split()) == " ".join(f"{m.old} -> {m.new}".split()))


@dataclass
class MutatePolicy:
    path: str | None = None
    min_score: dict[str, float] = field(default_factory=lambda: {DEFAULT: 100.0})
    timeout_s: float | None = None
    equivalent: list[Equivalent] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def required(self, severity: str | None) -> float:
        if severity is not None and severity in self.min_score:
            return self.min_score[severity]
        return self.min_score.get(DEFAULT, 100.0)

    def equivalent_of(self, m: Mutant) -> Equivalent | None:
        return next((e for e in self.equivalent if e.covers(m)), None)


def from_data(data: Any, path: str | None) -> MutatePolicy:
    """Read leniently: a malformed entry is a finding and is left out (the ``schema/policy``
    check validates the file's shape)."""
    pol = MutatePolicy(path)
    section = data.get("mutate") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        return pol
    shown = path or "policies/policy.yml"
    scores = section.get("min_score")
    if isinstance(scores, dict):
        pol.min_score = {str(k): float(v) for k, v in scores.items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool)}
        pol.min_score.setdefault(DEFAULT, 100.0)
    if isinstance(section.get("timeout"), str):
        try:
            pol.timeout_s = durations.parse_ms(section["timeout"]) / 1000
        except ValueError:
            pol.findings.append(warning(SUPPRESSION, shown, line_of(section, "timeout"),
                                        f"mutate.timeout: invalid duration {section['timeout']!r}"))
    items = section.get("equivalent") or []
    for item in items if isinstance(items, list) else []:
        line = line_of(item, default=line_of(section, "equivalent"))
        if not isinstance(item, dict):
            continue
        missing = [k for k in ("rule", "operator", "mutant", "reason") if not str(item.get(k) or "").strip()]
        if missing:
            pol.findings.append(warning(
                SUPPRESSION, shown, line,
                f"equivalent mutant without {', '.join(missing)}: ignored until it has one",
                "each entry needs rule, operator, mutant (as the survivor line prints it) and reason"))
            continue
        pol.equivalent.append(Equivalent(str(item["rule"]), str(item["operator"]),
                                         str(item["mutant"]), str(item["reason"]), line))
    return pol


def stale(pol: MutatePolicy, used: set[Equivalent], mutated: set[str]) -> list[Finding]:
    """Equivalent entries of a mutated rule that matched no surviving mutant (the rule or
    the tests changed since the entry was written)."""
    shown = pol.path or "policies/policy.yml"
    return [warning(SUPPRESSION, shown, e.line,
                    f"equivalent mutant of {e.rule} ({e.operator}: {e.mutant}) matches no surviving mutant",
                    "remove the entry, or update it to the mutant as the survivor line prints it")
            for e in pol.equivalent if e not in used and e.rule in mutated]
