"""Rule-file syntax that only Prometheus 3 understands, found before promtool 2 misreads it.

promtool 2.42 reports a group ``query_offset`` or ``labels`` as an unmarshal ("invalid YAML")
error and a UTF-8 metric or label name (``{"my.metric"}``) as a parse error, although the file is
valid for Prometheus 3. The gate checks such files with the 3.x promtool instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from moncheck import yamlpos

# A quoted name inside a selector's braces: `{"a.b"` (metric name) or `, "a.b"=` (label name).
_UTF8_NAME = re.compile(r'\{\s*"[^"]*"\s*[,}]|[{,]\s*"[^"]+"\s*(=~|!~|!=|=)')
GROUP_KEYS = ("query_offset", "labels")


def v3_only(path: Path) -> tuple[int, str] | None:
    """(line, what) of the first Prometheus-3-only construct in rule file ``path``; None when
    there is none or the file cannot be read (promtool then reports why)."""
    try:
        data = yamlpos.load(path)
    except yamlpos.LoadError:
        return None
    groups = data.get("groups") if isinstance(data, dict) else None
    for g in groups if isinstance(groups, list) else []:
        if not isinstance(g, dict):
            continue
        for key in GROUP_KEYS:
            if key in g:
                return yamlpos.line_of(g, key), f"group `{key}`"
        for rule in g.get("rules") or []:
            expr = rule.get("expr") if isinstance(rule, dict) else None
            if isinstance(expr, str) and _UTF8_NAME.search(expr):
                return yamlpos.line_of(rule, "expr"), "a UTF-8 quoted metric or label name"
    return None
