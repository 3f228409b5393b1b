"""Inhibition, as Alertmanager's ``inhibit/inhibit.go`` decides it.

A target alert is muted by a rule when the rule's target matchers match it and some firing alert
matches the source matchers and has, for every ``equal`` label, the same value (a label missing on
both sides has the empty value on both, so it counts as equal). When the target itself also matches
the source matchers, sources that also match the target matchers are not counted (``hasEqual``'s
``excludeTwoSidedMatch``): an alert never inhibits itself, nor does an alert that is "the same kind".
Matchers come from ``source_matchers``/``target_matchers`` and the deprecated
``source_match(_re)``/``target_match(_re)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from moncheck.alertmanager.matchers import (
    LABEL_NAME,
    Matcher,
    MatcherError,
    legacy,
    matches_all,
    parse_matchers,
)
from moncheck.yamlpos import LoadError, LocList, line_of

_KEYS = {"source_matchers", "target_matchers", "source_match", "source_match_re", "target_match", "target_match_re", "equal"}


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]
    line: int

    def mutes(self, target: dict[str, str], source: dict[str, str]) -> bool:
        """Does a firing ``source`` alert mute ``target`` under this rule?"""
        if not matches_all(self.target, target) or not matches_all(self.source, source):
            return False
        if any(source.get(n, "") != target.get(n, "") for n in self.equal):
            return False
        two_sided = matches_all(self.source, target)
        return not (two_sided and matches_all(self.target, source))


def inhibiting_rule(rules: Iterable[InhibitRule], source: dict[str, str], target: dict[str, str]) -> InhibitRule | None:
    """The first rule by which a firing ``source`` alert mutes ``target``, if any."""
    return next((r for r in rules if r.mutes(target, source)), None)


def inhibited(rules: Iterable[InhibitRule], source: dict[str, str], target: dict[str, str]) -> bool:
    return inhibiting_rule(rules, source, target) is not None


def muted_by(rules: Iterable[InhibitRule], target: dict[str, str], firing: Iterable[dict[str, str]]) -> dict[str, str] | None:
    """The first of the ``firing`` alerts that mutes ``target`` (``Inhibitor.Mutes``), if any."""
    alerts = list(firing)
    for r in rules:
        for src in alerts:
            if r.mutes(target, src):
                return src
    return None


def _side(rule: dict[str, Any], side: str, display: str) -> tuple[Matcher, ...]:
    try:
        found = legacy(rule.get(f"{side}_match"), rule.get(f"{side}_match_re"))
        texts = rule.get(f"{side}_matchers") or []
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise MatcherError(f"{side}_matchers must be a list of strings")
        for text in texts:
            found += parse_matchers(text)
    except (MatcherError, AttributeError) as e:
        key = next((k for k in (f"{side}_matchers", f"{side}_match_re", f"{side}_match") if k in rule), None)
        raise LoadError(display, line_of(rule, key), f"inhibit rule: {e}") from None
    return tuple(found)


def parse_inhibit_rules(rules: Any, display: str, line: int = 1) -> list[InhibitRule]:
    """The ``inhibit_rules`` list of a config; ``LoadError`` at the offending rule's line."""
    if rules is None:
        return []
    if not isinstance(rules, list):
        raise LoadError(display, line, "inhibit_rules must be a list")
    lines = rules.item_lines if isinstance(rules, LocList) else []
    out = []
    for i, rule in enumerate(rules):
        at = lines[i] if i < len(lines) else line
        if not isinstance(rule, dict):
            raise LoadError(display, at, "each inhibit rule must be a mapping")
        unknown = sorted(str(k) for k in rule if k not in _KEYS)
        if unknown:
            raise LoadError(display, line_of(rule, unknown[0]), f"inhibit rule: unknown field {unknown[0]!r}")
        equal = rule.get("equal") or []
        if not isinstance(equal, list) or not all(isinstance(n, str) and LABEL_NAME.fullmatch(n) for n in equal):
            raise LoadError(display, line_of(rule, "equal"), "inhibit rule: equal must be a list of label names")
        out.append(InhibitRule(_side(rule, "source", display), _side(rule, "target", display), tuple(equal), at))
    return out
