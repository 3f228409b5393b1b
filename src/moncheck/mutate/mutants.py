"""Mutants of the rules of a rule file: the expression operators of ``mutate.operators`` plus the
``for`` operator on the rule's ``for`` and ``keep_firing_for`` keys."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from moncheck import durations
from moncheck.drills.promql_print import format_duration
from moncheck.inventory import Rule, RuleFile
from moncheck.mutate import operators

FOR_KEYS = ("for", "keep_firing_for")
FOR_FACTORS = (0.5, 2.0)


@dataclass(frozen=True)
class Mutant:
    """One change to one rule. ``key`` is the rule key changed (``expr``, ``for``,
    ``keep_firing_for``); ``value`` its new value, None when the key is removed."""

    rule: Rule
    operator: str
    old: str
    new: str
    key: str
    value: str | None

    @property
    def check(self) -> str:
        return operators.CHECK_IDS[self.operator]

    @property
    def line(self) -> int:
        return self.rule.line_of(self.key) if self.key != "expr" else self.rule.expr_line

    def apply(self, data: Any) -> Any:
        """A deep copy of the rule file's (plain) data with this mutation applied."""
        out = copy.deepcopy(data)
        rule = out["groups"][_group_index(data, self.rule)]["rules"][self.rule.index]
        if self.value is None:
            rule.pop(self.key, None)
        else:
            rule[self.key] = self.value
        return out


def _group_index(data: Any, rule: Rule) -> int:
    for i, g in enumerate(data.get("groups") or []):
        if isinstance(g, dict) and str(g.get("name", "")) == rule.group:
            return i
    raise KeyError(f"group {rule.group!r} not in rule file")


def for_mutants(rule: Rule) -> list[Mutant]:
    """``for`` (and ``keep_firing_for``) removed, halved and doubled."""
    out: list[Mutant] = []
    raw = rule.raw if isinstance(rule.raw, dict) else {}
    for key in FOR_KEYS:
        text = raw.get(key)
        if text is None:
            continue
        try:
            ms = durations.parse_ms(str(text))
        except ValueError:
            continue  # schema/rules reports it
        if ms == 0:
            continue
        old = f"{key}: {text}"
        out.append(Mutant(rule, operators.FOR, old, f"no {key}", key, None))
        for f in FOR_FACTORS:
            new_ms = round(ms * f)
            if new_ms >= 1:
                value = format_duration(new_ms)
                out.append(Mutant(rule, operators.FOR, old, f"{key}: {value}", key, value))
    return out


def rule_mutants(rule: Rule) -> list[Mutant]:
    """Every mutant of one rule (expression first, then ``for``); ValueError when the
    expression does not parse."""
    out = [
        Mutant(rule, m.operator, m.old, m.new, "expr", m.expr)
        for m in operators.mutate_expr(rule.expr, recording=rule.kind == "record")
    ]
    if rule.kind == "alert":
        out += for_mutants(rule)
    return out


def file_mutants(rf: RuleFile) -> tuple[list[Mutant], list[tuple[Rule, str]]]:
    """(mutants of every rule of ``rf``, (rule, parse error) of rules that cannot be mutated)."""
    out: list[Mutant] = []
    bad: list[tuple[Rule, str]] = []
    for rule in rf.rules:
        try:
            out += rule_mutants(rule)
        except (ValueError, TypeError) as e:
            bad.append((rule, str(e)))
    return out, bad
