"""Evaluate every dashboard panel query against the live stack Prometheus under drill traffic.

Grafana's variables are replaced sensibly: ``$__rate_interval`` by four compressed scrape intervals,
``$__interval`` by one, ``$__range`` by the time the stack has been up; template variables (``$job``)
by a match-all regex. Each query is a range query over the stack's life (what a time-series panel
shows). A panel whose queries all return no data is a ``drills/panel-data`` finding at the line of
its first query in the dashboard JSON.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from moncheck import jsonpos
from moncheck.drills.promql_print import format_duration
from moncheck.findings import Finding, error
from moncheck.yamlpos import LoadError

_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def panels(dashboard: dict) -> Iterator[dict]:
    for p in dashboard.get("panels") or []:
        yield p
        yield from panels(p)  # rows nest their panels


def substitute(expr: str, scrape_ms: int, range_ms: int) -> str:
    fixed = {"__rate_interval": format_duration(max(4 * scrape_ms, 1)),
             "__interval": format_duration(max(scrape_ms, 1)),
             "__range": format_duration(max(range_ms, 1000)),
             "__range_s": str(max(range_ms // 1000, 1)),
             "__interval_ms": str(scrape_ms)}

    def rep(m: re.Match) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        return fixed.get(name, ".*")
    out = _VAR.sub(rep, expr)
    # `label="$var"` became `label=".*"`: only a regex matcher matches everything.
    return re.sub(r'(\w+)\s*=\s*"\.\*"', r'\1=~".*"', out)


def dashboard_files(repo: Path) -> list[Path]:
    return sorted((repo / "monitoring/grafana/dashboards").glob("*.json"))


CHECK = "drills/panel-data"


def check_dashboard(stack: Any, path: Path, display: str, scrape_ms: int, up_s: float) -> list[Finding]:
    """A ``drills/panel-data`` finding at the panel's first query for each panel without data."""
    try:
        dash = jsonpos.load(path, display)
    except LoadError as e:
        return [error(CHECK, e.path, e.line, f"cannot read dashboard: {e.message}")]
    out: list[Finding] = []
    title = dash.get("title", path.stem) if isinstance(dash, dict) else path.stem
    for p in panels(dash if isinstance(dash, dict) else {}):
        targets = [t for t in p.get("targets") or [] if isinstance(t, dict) and t.get("expr")]
        if not targets:
            continue
        empty = []
        for t in targets:
            q = substitute(str(t["expr"]), scrape_ms, int(up_s * 1000))
            try:
                r = requests.get(f"{stack.prometheus_url}/api/v1/query_range", params=_range(q, scrape_ms, up_s),
                                 timeout=10)
                body = r.json()
            except (requests.RequestException, ValueError) as err:
                empty.append(f"{q} ({err})")
                continue
            if body.get("status") != "success":
                empty.append(f"{q} (error: {body.get('error')})")
            elif not body["data"]["result"]:
                empty.append(q)
        if len(empty) == len(targets):
            out.append(error(CHECK, display, _line(targets[0], "expr"),
                             f"dashboard {title!r} panel {p.get('title', '?')!r}: no data under drill "
                             f"traffic: {empty[0]}"))
    return list(dict.fromkeys(out))  # a panel repeated in a collapsed row is reported once


def _range(query: str, scrape_ms: int, up_s: float) -> dict[str, str]:
    """A range query over the stack's life, as a time-series panel shows it: one failed scrape at
    the moment of the check (which marks a gauge stale) does not make a panel look empty."""
    end = time.time()
    step = max(scrape_ms / 1000, up_s / 1000)
    return {"query": query, "start": f"{end - max(up_s, step):.3f}", "end": f"{end:.3f}", "step": f"{step:.3f}"}


def _line(node: Any, key: str) -> int:
    lines = getattr(node, "key_lines", None) or {}
    return int(lines.get(key) or getattr(node, "line", 1) or 1)


def check_live(stack: Any, repo: Path, scrape_ms: int, up_s: float) -> list[Finding]:
    """Every dashboard of ``repo``: the panels without data (see ``check_dashboard``)."""
    out: list[Finding] = []
    for path in dashboard_files(repo):
        out += check_dashboard(stack, path, str(path.relative_to(repo)), scrape_ms, up_s)
    return out
