"""Alertmanager inhibition, evaluated in Python (amtool has no command to test it).

Follows Alertmanager's ``inhibit`` package: a target alert is muted when a rule's target
matchers match it, a firing source alert matches the source matchers, and every ``equal``
label has the same value on both (absent == empty). As in Alertmanager, an alert that matches
both sides of a rule is not muted by a source that also matches both sides (no self-inhibition).
Supports ``source_matchers``/``target_matchers`` and the deprecated ``source_match(_re)`` /
``target_match(_re)``. Regexes are fully anchored, as in Alertmanager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from moncheck import yamlpos

_MATCHER = re.compile(r'^\s*(?P<name>[^\s=!~"]+)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$')


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # one of =, !=, =~, !~
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        v = labels.get(self.name, "")  # an absent label has the empty value
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        hit = re.fullmatch(self.value, v) is not None
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Rule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]
    line: int


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        body, out, i = value[1:-1], [], 0
        while i < len(body):
            c = body[i]
            if c == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                i += 2
                continue
            out.append(c)
            i += 1
        return "".join(out)
    return value


def _split(text: str) -> list[str]:
    """Split ``a="x,y", b=~"z"`` on commas outside double quotes."""
    parts, cur, quoted, escaped = [], [], False, False
    for c in text:
        if escaped:
            cur.append(c)
            escaped = False
        elif c == "\\":
            cur.append(c)
            escaped = True
        elif c == '"':
            cur.append(c)
            quoted = not quoted
        elif c == "," and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def parse_matchers(text: str) -> list[Matcher]:
    """Parse one ``*_matchers`` entry (which may hold several comma-separated matchers,
    optionally in braces). Raises ``ValueError`` with a readable message."""
    s = text.strip()
    if s.startswith("{") and s.endswith("}"):
        s = s[1:-1]
    out = []
    for part in _split(s):
        m = _MATCHER.match(part)
        if not m:
            raise ValueError(f"bad matcher {part.strip()!r}")
        value = _unquote(m.group("value"))
        if m.group("op") in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as e:
                raise ValueError(f"bad regex in matcher {part.strip()!r}: {e}") from None
        out.append(Matcher(m.group("name"), m.group("op"), value))
    return out


def _side(rule: dict[str, Any], side: str) -> tuple[Matcher, ...]:
    found: list[Matcher] = []
    for text in rule.get(f"{side}_matchers") or []:
        found += parse_matchers(str(text))
    for name, value in (rule.get(f"{side}_match") or {}).items():
        found.append(Matcher(str(name), "=", str(value)))
    for name, value in (rule.get(f"{side}_match_re") or {}).items():
        found.append(Matcher(str(name), "=~", str(value)))
    return tuple(found)


def parse_rules(config: Any, display: str) -> list[Rule]:
    """The ``inhibit_rules`` of a loaded Alertmanager config; ``yamlpos.LoadError`` at the
    offending rule's line when one is malformed."""
    rules = (config or {}).get("inhibit_rules") if isinstance(config, dict) else None
    if not rules:
        return []
    if not isinstance(rules, list):
        raise yamlpos.LoadError(display, yamlpos.line_of(config, "inhibit_rules"), "inhibit_rules must be a list")
    out = []
    for i, rule in enumerate(rules):
        line = rules.item_lines[i] if isinstance(rules, yamlpos.LocList) else 1
        if not isinstance(rule, dict):
            raise yamlpos.LoadError(display, line, "each inhibit rule must be a mapping")
        try:
            out.append(
                Rule(_side(rule, "source"), _side(rule, "target"),
                     tuple(str(x) for x in rule.get("equal") or []), line)
            )
        except (ValueError, AttributeError, TypeError) as e:
            raise yamlpos.LoadError(display, line, f"inhibit rule: {e}") from None
    return out


def _all(matchers: tuple[Matcher, ...], labels: dict[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def inhibiting_rule(rules: list[Rule], source: dict[str, str], target: dict[str, str]) -> Rule | None:
    """The first rule by which a firing ``source`` alert mutes ``target``, if any."""
    for r in rules:
        if not _all(r.target, target) or not _all(r.source, source):
            continue
        if any(source.get(n, "") != target.get(n, "") for n in r.equal):
            continue
        if _all(r.source, target) and _all(r.target, source):
            continue  # both alerts match both sides: Alertmanager excludes this pair
        return r
    return None


def inhibited(rules: list[Rule], source: dict[str, str], target: dict[str, str]) -> bool:
    return inhibiting_rule(rules, source, target) is not None
