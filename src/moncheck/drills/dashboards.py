"""Evaluate every dashboard panel query against the live stack Prometheus under drill traffic.

Grafana's variables are replaced sensibly: ``$__rate_interval`` by four compressed scrape intervals,
``$__interval`` by one, ``$__range`` by the time the stack has been up; template variables (``$job``)
by a match-all regex. A panel whose queries all return no data fails, naming dashboard and panel.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import requests

from moncheck.drills.promql_print import format_duration

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


def check_dashboard(stack: Any, path: Path, display: str, scrape_ms: int, up_s: float) -> list[str]:
    """``display: dashboard "T" panel "P": no data ...`` for every panel of one dashboard without data."""
    try:
        dash = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return [f"{display}:1: cannot read dashboard: {e}"]
    out = []
    title = dash.get("title", path.stem)
    for p in panels(dash):
        exprs = [t["expr"] for t in p.get("targets") or [] if isinstance(t, dict) and t.get("expr")]
        if not exprs:
            continue
        empty = []
        for expr in exprs:
            q = substitute(expr, scrape_ms, int(up_s * 1000))
            try:
                r = requests.get(f"{stack.prometheus_url}/api/v1/query", params={"query": q}, timeout=10)
                body = r.json()
            except (requests.RequestException, ValueError) as err:
                empty.append(f"{q} ({err})")
                continue
            if body.get("status") != "success":
                empty.append(f"{q} (error: {body.get('error')})")
            elif not body["data"]["result"]:
                empty.append(q)
        if len(empty) == len(exprs):
            out.append(f"{display}: dashboard {title!r} panel {p.get('title', '?')!r}: no data under drill "
                       f"traffic: {empty[0]}")
    return list(dict.fromkeys(out))  # a panel repeated in a collapsed row is reported once


def check_live(stack: Any, repo: Path, scrape_ms: int, up_s: float) -> list[str]:
    """Every dashboard of ``repo``: the panels without data (see ``check_dashboard``)."""
    out: list[str] = []
    for path in dashboard_files(repo):
        out += check_dashboard(stack, path, str(path.relative_to(repo)), scrape_ms, up_s)
    return out
