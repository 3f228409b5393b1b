"""``promtool test rules`` failures: split into entries, attributed to their test group, and
summarised by their first difference (a label, an annotation, a value, a missing alert).

promtool prints, for a failing file, one entry per failed assertion, separated by blank lines::

        name: HighErrorRate fires,                 <- only before alert entries, and not in all versions
        alertname: HighErrorRate, time: 30m,
            exp:[ 0: Labels:{...} Annotations:{...} ],
            got:[ ... ]

        expr: "job:x:rate5m", time: 30m,
            exp: {__name__="job:x:rate5m", job="a"} 3E+00
            got: {__name__="job:x:rate5m", job="a"} 3.0000000000000004E+00

An entry is attributed to a group by its ``name:``, else by (alertname or expression, eval time)
matched against the groups' test cases; nothing is cut.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from moncheck import durations

_NAME = re.compile(r"^name: (?P<name>.*),$")
_ALERT = re.compile(r"^alertname: (?P<alert>.*?), time: (?P<time>[^,]+),?\s*$")
_EXPR = re.compile(r'^expr: (?P<expr>".*"), time: (?P<time>[^,]+),?\s*$')
_PAIR = re.compile(r'\s*(?P<k>[^=,\s{}]+)="(?P<v>(?:[^"\\]|\\.)*)"\s*,?')


@dataclass(frozen=True)
class Entry:
    """One failed assertion: ``kind`` alert | expr | other, ``what`` the alert name or the
    expression, ``time`` promtool's eval time text, ``text`` the entry without its name line."""

    group: str | None
    kind: str
    what: str
    time: str
    text: str


def entries(failure: str) -> list[Entry]:
    """The entries of the failure part of one file's output (``promtool.failure_text``)."""
    out: list[Entry] = []
    for block in re.split(r"\n\s*\n", textwrap.dedent(failure).strip("\n")):
        block = textwrap.dedent(block).strip("\n")
        if not block.strip():
            continue
        lines = block.splitlines()
        group = None
        m = _NAME.match(lines[0].strip())
        if m:
            group, lines = m.group("name"), lines[1:]
        text = textwrap.dedent("\n".join(lines)).strip("\n")
        first = text.splitlines()[0].strip() if text else ""
        if (m := _ALERT.match(first)) is not None:
            out.append(Entry(group, "alert", m.group("alert"), m.group("time").strip(), text))
        elif (m := _EXPR.match(first)) is not None:
            out.append(Entry(group, "expr", _unquote(m.group("expr")), m.group("time").strip(), text))
        else:
            out.append(Entry(group, "other", "", "", text))
    return out


def _unquote(s: str) -> str:
    try:
        return str(json.loads(s))
    except ValueError:
        return s.strip('"')


def _ms(text: Any) -> int | None:
    try:
        return durations.parse_ms(str(text))
    except ValueError:
        return None


def candidates(e: Entry, groups: list[tuple[str, Any]]) -> list[int]:
    """Indexes of the groups (name, data) the entry may come from."""
    if e.group is not None:
        named = [i for i, (name, _) in enumerate(groups) if name == e.group]
        if named:
            return named
    if e.kind == "other":
        return []
    t = _ms(e.time)
    key = "alert_rule_test" if e.kind == "alert" else "promql_expr_test"
    field = "alertname" if e.kind == "alert" else "expr"
    out = []
    for i, (_, data) in enumerate(groups):
        cases = data.get(key) if isinstance(data, dict) else None
        for c in cases if isinstance(cases, list) else []:
            if (isinstance(c, dict) and str(c.get(field, "")).strip() == e.what.strip()
                    and _ms(c.get("eval_time")) == t):
                out.append(i)
                break
    return out


# ------------------------------------------------------------------ first difference


def _braced(s: str, start: int) -> tuple[str, int]:
    """Content of the ``{...}`` opening at ``s[start]`` (quotes respected), and the end index."""
    depth, i, quoted = 0, start, False
    while i < len(s):
        c = s[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return s[start + 1 : i], i + 1
        i += 1
    return s[start + 1 :], len(s)


def _pairs(body: str) -> dict[str, str]:
    return {m.group("k"): m.group("v") for m in _PAIR.finditer(body)}


def _alerts(part: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    out = []
    pos = 0
    while (i := part.find("Labels:{", pos)) >= 0:
        labels, pos = _braced(part, i + len("Labels:"))
        ann: dict[str, str] = {}
        j = part.find("Annotations:{", pos)
        k = part.find("Labels:{", pos)
        if j >= 0 and (k < 0 or j < k):
            body, pos = _braced(part, j + len("Annotations:"))
            ann = _pairs(body)
        out.append((_pairs(labels), ann))
    return out


def _samples(part: str) -> list[tuple[dict[str, str], str]]:
    out = []
    pos = 0
    while (i := part.find("{", pos)) >= 0:
        labels, pos = _braced(part, i)
        m = re.match(r"\s*(\S+?)(,|\s|$)", part[pos:])
        out.append((_pairs(labels), m.group(1) if m else ""))
    return out


def _show(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _split(text: str) -> tuple[str, str]:
    i, j = text.find("exp:"), text.find("got:")
    if i < 0 or j < 0:
        return "", ""
    return text[i + 4 : j], text[j + 4 :]


def _dict_diff(what: str, exp: dict[str, str], got: dict[str, str]) -> str | None:
    for k in sorted(set(exp) | set(got)):
        if exp.get(k) != got.get(k):
            e = f'"{exp[k]}"' if k in exp else "nothing"
            g = f'"{got[k]}"' if k in got else "nothing"
            return f"{what} {k}: expected {e}, got {g}"
    return None


def first_difference(e: Entry) -> str:
    """One line saying where expected and got first differ."""
    exp_part, got_part = _split(e.text)
    if e.kind == "alert":
        exp, got = _alerts(exp_part), _alerts(got_part)
        head = f"alert {e.what} at {e.time}"
        for i in range(max(len(exp), len(got))):
            if i >= len(got):
                return f"{head}: expected {len(exp)} alerts, got {len(got)}; missing {_show(exp[i][0])}"
            if i >= len(exp):
                return f"{head}: expected {len(exp)} alerts, got {len(got)}; unexpected {_show(got[i][0])}"
            d = _dict_diff("label", exp[i][0], got[i][0]) or _dict_diff("annotation", exp[i][1], got[i][1])
            if d:
                return f"{head}: alert {i + 1}: {d}"
        return f"{head}: expected and got differ"
    if e.kind == "expr":
        exp_s, got_s = _samples(exp_part), _samples(got_part)
        head = f"expr {e.what} at {e.time}"
        for i in range(max(len(exp_s), len(got_s))):
            if i >= len(got_s):
                return f"{head}: expected {len(exp_s)} samples, got {len(got_s)}; missing {_show(exp_s[i][0])}"
            if i >= len(exp_s):
                return f"{head}: expected {len(exp_s)} samples, got {len(got_s)}; unexpected {_show(got_s[i][0])}"
            (el, ev), (gl, gv) = exp_s[i], got_s[i]
            if el != gl:
                return f"{head}: sample {i + 1}: {_dict_diff('label', el, gl)}"
            if ev != gv:
                return f"{head}: value of {_show(el)}: expected {ev}, got {gv}"
        return f"{head}: expected and got differ"
    first = e.text.splitlines()[0] if e.text else "failed"
    return first


def describe(group: str, found: list[Entry]) -> str:
    """The message of a failing group: the first difference on the first line (``+N more``
    when several assertions failed), then every entry in full, indented."""
    head = first_difference(found[0]) if found else "failed"
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    body = "\n\n".join(textwrap.indent(e.text, "    ") for e in found)
    return f'test group "{group}" failed: {head}{more}' + (f"\n{body}" if body else "")
