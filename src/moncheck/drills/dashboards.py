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
from pathlib import Path
from typing import Any

import requests

from moncheck.drills.promql_print import format_duration
from moncheck.findings import Finding, error
from moncheck.inventory import Dashboard, Inventory, load_repo

_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


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


CHECK = "drills/panel-data"


def check_dashboard(stack: Any, dash: Dashboard, scrape_ms: int, up_s: float) -> list[Finding]:
    """A ``drills/panel-data`` finding at the panel's first query for each panel without data."""
    out: list[Finding] = []
    title = dash.title or Path(dash.path).stem
    for p in dash.panels:
        if not p.targets:
            continue
        empty = []
        for t in p.targets:
            q = substitute(t.expr, scrape_ms, int(up_s * 1000))
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
        if len(empty) == len(p.targets):
            out.append(error(CHECK, dash.path, p.targets[0].line,
                             f"dashboard {title!r} panel {p.title or '?'!r}: no data under drill "
                             f"traffic: {empty[0]}"))
    return list(dict.fromkeys(out))  # a panel repeated in a collapsed row is reported once


def _range(query: str, scrape_ms: int, up_s: float) -> dict[str, str]:
    """A range query over the stack's life, as a time-series panel shows it: one failed scrape at
    the moment of the check (which marks a gauge stale) does not make a panel look empty."""
    end = time.time()
    step = max(scrape_ms / 1000, up_s / 1000)
    return {"query": query, "start": f"{end - max(up_s, step):.3f}", "end": f"{end:.3f}", "step": f"{step:.3f}"}


def check_live(stack: Any, repo: Path, scrape_ms: int, up_s: float, inventory: Inventory | None = None) -> list[Finding]:
    """Every dashboard of ``repo`` as the inventory loaded it: the panels without data (see
    ``check_dashboard``); a dashboard that does not load is a finding too."""
    inv = inventory if inventory is not None else load_repo(repo)
    out = [error(CHECK, f.path, f.line, f"cannot read dashboard: {f.message}") for f in inv.load_errors("dashboards")]
    for dash in inv.dashboards:
        out += check_dashboard(stack, dash, scrape_ms, up_s)
    return out
