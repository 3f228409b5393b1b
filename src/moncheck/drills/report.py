"""Drill results: the end-of-run table and ``drill-report.json``."""

from __future__ import annotations

import json
from pathlib import Path

from moncheck import atomic
from moncheck.drills.runner import DrillResult


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}s"


def _delay(v: float | None, floor: float | None) -> str:
    if v is None:
        return "-"
    if floor is None:
        return f"{v:.2f}s"
    return f"{v:.2f}s/{floor:.2f}s" + (f"={v / floor:.2f}" if floor > 0 else "")


def rows(results: list[DrillResult]) -> list[tuple[str, ...]]:
    """One row per expectation: each delay as measured/floor=ratio, the reason where not predicted."""
    out: list[tuple[str, ...]] = [("drill", "alert", "detection", "pipeline (for..bound)", "delivery (slowest)",
                                   "resolve", "checked", "status", "detection model")]
    for r in results:
        if r.baseline:
            what = f"(silent: {', '.join(r.silent)})" if r.silent else "(no alert expected)"
            out.append((r.name, what, "-", "-", "-", "-", "-",
                        ("ok" + (f" (ignored untestable: {', '.join(r.ignored)})" if r.ignored else ""))
                        if r.ok else f"FAIL: {', '.join(r.unexpected) or 'see below'}", ""))
        for a in r.alerts:
            pipe = (f"{a.pipeline_s:.2f}s ({a.pipeline_floor_s:.2f}..{a.pipeline_bound_s:.2f})"
                    if a.pipeline_s is not None else "-")
            slow = max(a.delivery_s.items(), key=lambda kv: kv[1], default=None)
            deliv = _delay(slow[1], a.delivery_floor_s.get(slow[0])) if slow else "-"
            predicted = a.detection_floor_s is not None
            out.append((r.name, a.alert, _delay(a.detection_s, a.detection_floor_s if predicted else None),
                        pipe, deliv, _s(a.resolved_s), str(len(a.notifications)),
                        "ok" if not a.failures else "FAIL",
                        a.detection_model + (f"; condition reset {a.resets}x before firing" if a.resets else "")))
        if not r.alerts and not r.baseline:
            out.append((r.name, "-", "-", "-", "-", "-", "-", "ok" if r.ok else "FAIL", ""))
    return out


def table(results: list[DrillResult], speed: float, *, wall_s: float | None = None, jobs: int = 1) -> str:
    rws = rows(results)
    widths = [max(len(str(row[i])) for row in rws) for i in range(len(rws[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rws]
    lines.insert(1, "  ".join("-" * w for w in widths))
    fails = [f"  {r.name}: {m}" for r in results for m in r.failures + [m for a in r.alerts for m in a.failures]]
    unexpected = [f"  {r.name}: {', '.join(r.unexpected)}" for r in results if r.unexpected and not r.baseline]
    if unexpected:
        lines += ["", "fired although not expected (not a failure unless `expect_silent` names them):",
                  *unexpected]
    scrapes = [f"  {r.name}: " + ", ".join(f"{job} {n}/{t}" for job, (n, t) in sorted(r.scrape_failures.items()))
               for r in results if r.scrape_failures]
    if scrapes:
        lines += ["", "failed scrapes (the stack could not answer within the compressed interval):", *scrapes]
    total = sum(r.wall_s for r in results) if wall_s is None else wall_s
    lines.append(f"\n{len(results)} drills at speed {speed:g}x in {total:.0f}s ({jobs} at once); "
                 f"{sum(r.ok for r in results)} passed, {sum(not r.ok for r in results)} failed")
    if fails:
        lines += ["failures:", *fails]
    return "\n".join(lines)


def write_json(path: Path, results: list[DrillResult], speed: float, extra: dict | None = None) -> None:
    doc = {"speed": speed, "total_wall_s": sum(r.wall_s for r in results),
           "ok": all(r.ok for r in results), "drills": [r.to_json() for r in results], **(extra or {})}
    atomic.write_text(path, json.dumps(doc, indent=2) + "\n")
