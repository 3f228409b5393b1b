"""Alertmanager label matchers: the classic syntax (``pkg/labels/parse.go`` of Alertmanager 0.25)
and its semantics.

- ``ParseMatchers``: an optional ``{`` / ``}``; matchers split on commas outside double quotes
  (``\\"`` does not end a quoted part); a trailing comma is dropped.
- ``ParseMatcher``: ``name op value`` with ``name`` ``[a-zA-Z_:][a-zA-Z0-9_:]*``, ``op`` one of
  ``= != =~ !~``, spaces around tokens ignored; the value may be double-quoted; inside it ``\\"``,
  ``\\n`` and ``\\\\`` are escapes and any other backslash is literal; an unescaped ``"`` anywhere
  but at the ends is an error.
- Matching: an absent label has the empty value; regexes are fully anchored (``^(?:re)$``) and
  use Go's RE2 syntax (translated by :func:`compile_regex`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPS = ("=", "!=", "=~", "!~")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")  # model.LabelName.IsValid (legacy match keys)
_MATCHER = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*(.*?)\s*$", re.DOTALL)


class MatcherError(ValueError):
    """A matcher Alertmanager would reject; the message says which and why."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # one of OPS
    value: str
    _re: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def new(cls, name: str, op: str, value: str) -> Matcher:
        """``labels.NewMatcher``: compiles (and so validates) regex values."""
        if op not in OPS:
            raise MatcherError(f"unknown match type {op!r}")
        return cls(name, op, value, compile_regex(value) if op in ("=~", "!~") else None)

    def matches_value(self, v: str) -> bool:
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        assert self._re is not None
        hit = self._re.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit

    def matches(self, labels: dict[str, str]) -> bool:
        return self.matches_value(labels.get(self.name, ""))

    def __str__(self) -> str:
        esc = self.value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        return f'{self.name}{self.op}"{esc}"'


def matches_all(matchers: tuple[Matcher, ...] | list[Matcher], labels: dict[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def parse_matcher(text: str) -> Matcher:
    """One matcher, exactly as Alertmanager's ``labels.ParseMatcher``."""
    ms = _MATCHER.match(text)
    if not ms:
        raise MatcherError(f"bad matcher format: {text}")
    name, op, raw = ms.groups()
    expect_quote = raw.startswith('"')
    if expect_quote:
        raw = raw[1:]
    out: list[str] = []
    escaped = False
    for i, c in enumerate(raw):
        if escaped:
            escaped = False
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(c, "\\" + c))
            continue
        if c == "\\":
            if i < len(raw) - 1:
                escaped = True
            else:
                out.append("\\")  # a backslash as the last character is literal
        elif c == '"':
            if not expect_quote or i < len(raw) - 1:
                raise MatcherError(f"matcher value contains unescaped double quote: {ms.group(3)}")
            expect_quote = False
        else:
            out.append(c)
    if expect_quote:
        raise MatcherError(f"matcher value contains unescaped double quote: {ms.group(3)}")
    try:
        return Matcher.new(name, op, "".join(out))
    except MatcherError as e:
        raise MatcherError(f"{text.strip()}: {e}") from None


def split_matchers(text: str) -> list[str]:
    """The comma-separated parts of a matchers string (``ParseMatchers``' tokenizer)."""
    s = text.removeprefix("{")
    s = s.removesuffix("}")
    tokens: list[str] = []
    cur: list[str] = []
    quoted = escaped = False
    for c in s:
        if c == "," and not quoted:
            tokens.append("".join(cur))
            cur = []
            continue
        if c == '"':
            if not escaped:
                quoted = not quoted
            else:
                escaped = False
        elif c == "\\":
            escaped = not escaped
        else:
            escaped = False
        cur.append(c)
    if "".join(cur).strip():
        tokens.append("".join(cur).strip())
    return tokens


def parse_matchers(text: str) -> list[Matcher]:
    """Every matcher of one string, as ``labels.ParseMatchers`` (``{a="x", b=~"y"}``)."""
    return [parse_matcher(t) for t in split_matchers(text)]


def _scalar(name: object, value: object) -> str:
    """A YAML scalar as Go's YAML decoder hands it to a string field (``500`` -> "500")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MatcherError(f"{name}: value must be a string, got {value!r}")


def legacy(match: dict[str, str] | None, match_re: dict[str, str] | None) -> list[Matcher]:
    """Matchers of the deprecated ``match`` (equality) and ``match_re`` (regex) maps."""
    out: list[Matcher] = []
    for op, mapping in (("=", match), ("=~", match_re)):
        for name, value in (mapping or {}).items():
            if not LABEL_NAME.fullmatch(str(name)):
                raise MatcherError(f"invalid label name {name!r}")
            out.append(Matcher.new(str(name), op, _scalar(name, value)))
    return out


# ------------------------------------------------------------------------- RE2 -> Python

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_REPEAT = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")
_UNSUPPORTED = re.compile(r"\(\?(?:[=!]|<[=!]|>|P=)")


def compile_regex(pattern: str) -> re.Pattern[str]:
    """A Python regex that matches what Go's RE2 ``pattern`` matches (anchoring is the caller's:
    use ``fullmatch``). RE2's classes are ASCII (``\\d``, ``\\w``, ``\\s``, ``\\b``); ``$`` is the end of
    the text; ``\\z`` is Python's ``\\Z``; ``\\Q...\\E`` quotes; POSIX classes ``[[:alpha:]]`` exist; a
    ``{`` that does not start ``{n}``, ``{n,}`` or ``{n,m}`` is literal (Python reads ``{,n}`` as a
    repetition); repeat counts stop at 1000. RE2 has no look-around and no back-references: those
    are errors, as in Alertmanager. Not translated (rare in routing): Unicode classes ``\\pL`` (an
    error here) and flags such as ``(?i)`` after the start of the pattern."""
    if _UNSUPPORTED.search(pattern) or re.search(r"\\[1-9]", pattern.replace("\\\\", "")):
        raise MatcherError(f"invalid regex {pattern!r}: look-around and back-references are not RE2 syntax")
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "z":
                out.append("\\Z")
            elif nxt == "Q":  # \Q...\E: a literal run
                end = pattern.find("\\E", i + 2)
                lit = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(lit))
                i = len(pattern) if end < 0 else end + 2
                continue
            else:
                out.append(c + nxt)
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end] if end > 0 else ""
                neg = name.startswith("^")
                if name.lstrip("^") in _POSIX and not neg:
                    out.append(_POSIX[name])
                    i = end + 2
                    continue
            if c == "]":
                in_class = False
            elif c == "[":
                out.append("\\[")
                i += 1
                continue
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
            # A `]` right after `[` or `[^` is a literal in both dialects.
            for lead in ("^]", "]", "^"):
                if pattern.startswith(lead, i + 1):
                    out.append(lead.replace("]", "\\]"))
                    i += len(lead)
                    break
        elif c == "{":
            rep = _REPEAT.match(pattern, i)
            if rep is None:  # RE2 reads `{` that does not start {n}, {n,} or {n,m} literally
                out.append("\\{")
            else:
                if any(int(n) > 1000 for n in rep.groups() if n):
                    raise MatcherError(f"invalid regex {pattern[:80]!r}: repeat count above 1000")
                out.append(rep.group(0))
                i = rep.end()
                continue
        elif c == "$":
            out.append("\\Z")  # RE2's `$` is the end of the text; Python's also matches before a final \n
        else:
            out.append(c)
        i += 1
    try:
        return re.compile("".join(out), re.ASCII)
    except (re.error, OverflowError, RecursionError) as e:  # RecursionError: absurdly deep nesting
        raise MatcherError(f"invalid regex {pattern[:80]!r}: {e}") from None
