"""Render the daily health report as Markdown."""

from __future__ import annotations

from datetime import UTC, datetime

from moncheck.report.chartdata import Chart
from moncheck.report.collect import ReportData
from moncheck.report.expectations import Outcome


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _num(v: float | None, fmt: str, missing: str = "no data") -> str:
    return missing if v is None else format(v, fmt)


def _dur(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def render(data: ReportData, outcomes: list[Outcome], charts: list[Chart], build_s: float | None = None) -> str:
    failed = [o for o in outcomes if not o.success]
    out = [f"# Daily health report: {_ts(data.start)} to {_ts(data.end)}", ""]
    # Problems first: a reader must not mistake a report built on bad data for a good day.
    if not data.has_data:
        out += ["> **NO DATA.** " + data.notes[0], ""]
    if failed:
        out += [f"> **DATA FAILED {len(failed)} EXPECTATION(S)**: the figures below may be wrong.", ">"]
        out += [f"> - {o.text()}" for o in failed]
        out.append("")
    elif outcomes:
        out += [(f"Data checks: all {len(outcomes)} expectations passed "
                 "(`monitoring/expectations/daily-report.yml`)."), ""]
    out += [
        "## Key figures", "",
        "| Figure | Value |", "|---|---|",
        f"| Period | last {data.window} |",
        f"| Total requests | {_num(data.total_requests, ',.0f')} |",
        f"| Error ratio (5xx / all, all series) | {_num(data.error_ratio, '.4%')} |",
        f"| p95 latency | {_num(data.p95_latency_s, '.3f')} s |" if data.p95_latency_s is not None
        else "| p95 latency | no data |",
        f"| Health endpoint | {_health(data.health)} |",
        f"| Alerts that fired | {len(data.alerts)} |",
        "",
    ]
    out += ["## Availability against SLOs", ""]
    if data.slos:
        out += ["| SLO | Objective | Availability | Met |", "|---|---|---|---|"]
        for s in data.slos:
            met = {True: "yes", False: "**NO**", None: "no data"}[s.met]
            avail = "no data" if s.availability is None else f"{s.availability:.3f}%"
            out.append(f"| {s.id} | {s.objective:g}% | {avail} | {met} |")
    else:
        out.append("No SLO specs in `monitoring/slos/` (or none could be evaluated).")
    out += ["", "## Health endpoint", ""]
    h = data.health
    out.append(f"`{h.get('url', '-')}`: {_health(h)}")
    if h.get("components"):
        out += ["", "| Component | Status |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in sorted(h["components"].items())]
    out += ["", "## Alerts that fired", ""]
    if data.alerts:
        out += ["| Alert | Severity | First seen | Last seen | Firing for | Active now | Source |",
                "|---|---|---|---|---|---|---|"]
        for a in data.alerts:
            out.append(f"| {a.alertname} | {a.severity or '-'} | {_ts(a.first_seen)} | {_ts(a.last_seen)} | "
                       f"{_dur(a.firing_s)} | {'yes' if a.active_now else 'no'} | {a.source} |")
    else:
        out.append("No alert fired in the period.")
    if charts:
        # Relative links: the charts sit beside report.md (in the folder and in the artifact).
        out += ["", "## Charts", ""]
        for c in charts:
            out += [f"![{c.title}]({c.file})", ""]
    notes = data.notes[1:] if not data.has_data else data.notes
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    v = data.versions
    out += ["", "---",
            f"Prometheus `{data.prometheus_url}` ({'version ' + v['prometheus'] + ', ' if 'prometheus' in v else ''}"
            f"scrape interval {data.scrape_interval_s:g}s), "
            f"Alertmanager `{data.alertmanager_url or '-'}`"
            f"{' (version ' + v['alertmanager'] + ')' if 'alertmanager' in v else ''}."
            + (f" Built in {build_s:.1f}s." if build_s is not None else ""), ""]
    return "\n".join(out)


def _health(h: dict) -> str:
    status = h.get("status", "unknown")
    extra = f" (HTTP {h['http']})" if "http" in h else (f" ({h['detail']})" if h.get("detail") else "")
    return f"{status}{extra}"
