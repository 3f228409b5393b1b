"""Helm / Jinja templated files: recognised, so the user is told to render them first instead of
getting the YAML parser's wording about whatever the template markers broke.

Prometheus alert templates (``{{ $labels.job }}``) are not Helm markers: only constructs no rule
file uses count (``.Values``, ``include``, Jinja ``{% %}``; not ``template``, which Alertmanager uses too, Helm's escaping of ``{{``), or a
template action heading a line, and that only when the file does not load as YAML.
"""

from __future__ import annotations

import re

MESSAGE = "templated: render it first (helm template / your Jinja renderer), then check the output"

_STRONG = re.compile(
    r"\{\{-?\s*(?:\.Values|\.Release|\.Chart|\.Capabilities|\$\.Values|include\s|tpl\s|toYaml\b)"
    r"|\{%-?\s|\{\{\s*[\"`]\{\{"
)
_LINE_ACTION = re.compile(r"^\s*\{\{-?\s*(?:if|else|end|range|with|define|/\*)\b")


def marker_line(text: str, loads: bool) -> int | None:
    """1-based line of the first templating marker of ``text``; ``loads``: it parses as YAML
    (then only the strong markers count)."""
    for i, line in enumerate(text.splitlines(), 1):
        if _STRONG.search(line) or (not loads and _LINE_ACTION.match(line)):
            return i
    return None
