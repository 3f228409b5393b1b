"""Drill results: the end-of-run table and ``drill-report.json``."""

from __future__ import annotations

import json
from pathlib import Path

from moncheck import atomic
from moncheck.drills.runner import DrillResult


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}s"


def table(results: list[DrillResult], speed: float) -> str:
    rows = [("drill", "alert", "fire", "min", "ratio", "notify (slowest)", "resolve", "status")]
    for r in results:
        if r.baseline:
            what = f"(silent: {', '.join(r.silent)})" if r.silent else "(no alert expected)"
            rows.append((r.name, what, "-", "-", "-", "-", "-",
                         ("ok" + (f" (ignored untestable: {', '.join(r.ignored)})" if r.ignored else ""))
                         if r.ok else f"FAIL: {', '.join(r.unexpected) or 'see below'}"))
        for a in r.alerts:
            slow = max(a.notified_s.values()) if a.notified_s else None
            ratio = f"{a.ratio:.2f}" if a.ratio else "-"
            rows.append((r.name, a.alert, _s(a.fired_s), _s(a.min_fire_s), ratio, _s(slow),
                         _s(a.resolved_s), "ok" if not a.failures else "FAIL"))
        if not r.alerts and not r.baseline:
            rows.append((r.name, "-", "-", "-", "-", "-", "-", "ok" if r.ok else "FAIL"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    fails = [f"  {r.name}: {m}" for r in results for m in r.failures + [m for a in r.alerts for m in a.failures]]
    total = sum(r.wall_s for r in results)
    lines.append(f"\n{len(results)} drills at speed {speed:g}x in {total:.0f}s; "
                 f"{sum(r.ok for r in results)} passed, {sum(not r.ok for r in results)} failed")
    if fails:
        lines += ["failures:", *fails]
    return "\n".join(lines)


def write_json(path: Path, results: list[DrillResult], speed: float, extra: dict | None = None) -> None:
    doc = {"speed": speed, "total_wall_s": sum(r.wall_s for r in results),
           "ok": all(r.ok for r in results), "drills": [r.to_json() for r in results], **(extra or {})}
    atomic.write_text(path, json.dumps(doc, indent=2) + "\n")
