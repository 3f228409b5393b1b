"""Draw the report's charts (``chartdata.Chart``) as PNG files (matplotlib, Agg: no display).

Every chart is drawn, also without data (it then says so), so the report always has the same
set of figures and a reader sees "no data" rather than a missing image.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moncheck import atomic
from moncheck.report.chartdata import Chart

SEVERITY_COLOURS = {"critical": "#c0392b", "high": "#e67e22", "warning": "#f1c40f", "info": "#3498db"}
REF_STYLES = {"budget": ("#27ae60", "--"), "threshold": ("#c0392b", ":"), "target": ("#8e44ad", "--"),
              "zero": ("#7f8c8d", "-")}


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def _axes_time(ax: Any, chart: Chart) -> None:
    import matplotlib.dates as mdates

    ax.set_xlim(_dt(chart.xlim[0]), _dt(chart.xlim[1]))
    locator = mdates.AutoDateLocator(tz=UTC)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    ax.set_xlabel("time (UTC)")


def _draw_lines(ax: Any, chart: Chart) -> None:
    top = 0.0
    for line in chart.lines:
        if line.points:
            ax.plot([_dt(t) for t, _ in line.points], [v for _, v in line.points], label=line.label,
                    linewidth=1.2, marker="o" if line.markers else None, markersize=3)
            top = max(top, max(v for _, v in line.points))
    for ref in chart.refs:
        colour, style = REF_STYLES[ref.kind]
        ax.axhline(ref.value, color=colour, linestyle=style, linewidth=1.0, label=ref.label)
        top = max(top, ref.value)
    if chart.ymin is not None:
        ax.set_ylim(bottom=chart.ymin, top=chart.ymax if chart.ymax is not None else (top * 1.15) or 1.0)
    if chart.note:
        ax.text(0.5, 0.5, chart.note, transform=ax.transAxes, ha="center", va="center", color="#7f8c8d")
    if (len(chart.lines) > 1 or chart.refs) and ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="x-small")


def _draw_bars(ax: Any, chart: Chart) -> None:
    import matplotlib.dates as mdates

    rows = list(dict.fromkeys(b.row for b in chart.bars))
    for b in chart.bars:
        y = rows.index(b.row)
        start, end = mdates.date2num(_dt(b.start)), mdates.date2num(_dt(max(b.end, b.start)))
        width = max(end - start, (mdates.date2num(_dt(chart.xlim[1])) - mdates.date2num(_dt(chart.xlim[0]))) / 400)
        ax.broken_barh([(start, width)], (y - 0.35, 0.7), facecolors=SEVERITY_COLOURS.get(b.severity, "#95a5a6"))
    ax.set_yticks(range(len(rows)), rows, fontsize="x-small")
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.invert_yaxis()
    if chart.note:
        ax.set_yticks([])
        ax.text(0.5, 0.5, chart.note, transform=ax.transAxes, ha="center", va="center", color="#7f8c8d")


def draw(chart: Chart) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len({b.row for b in chart.bars})
    fig, ax = plt.subplots(figsize=(8, 3 if rows <= 4 else 1 + 0.45 * rows), dpi=100)
    try:
        (_draw_bars if chart.file == "alerts.png" else _draw_lines)(ax, chart)
        _axes_time(ax, chart)
        ax.set_title(chart.title, fontsize="medium")
        if chart.ylabel:
            ax.set_ylabel(chart.ylabel)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def render(charts: list[Chart], out: Path) -> list[str]:
    """Write one PNG per chart into ``out``; returns the file names, in order."""
    written = []
    for chart in charts:
        atomic.write_bytes(out / chart.file, draw(chart))
        written.append(chart.file)
    return written
