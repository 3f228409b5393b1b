"""PNG charts of the report period (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from datetime import datetime, UTC
from pathlib import Path

from moncheck import atomic

CHARTS = {
    "request-rate.png": ("Request rate", "requests/s", ["request_rate"]),
    "error-ratio.png": ("Error ratio (5xx / all)", "ratio", ["error_ratio"]),
    "latency.png": ("Latency percentiles", "seconds", ["p50", "p95", "p99"]),
}


def render(series: dict[str, list[tuple[float, float]]], out: Path) -> list[str]:
    """Write one PNG per chart that has data; returns the file names written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    written = []
    for name, (title, unit, keys) in CHARTS.items():
        lines = {k: series.get(k) or [] for k in keys}
        if not any(lines.values()):
            continue
        fig, ax = plt.subplots(figsize=(8, 3), dpi=100)
        try:
            for key, points in lines.items():
                if points:
                    xs = [datetime.fromtimestamp(t, tz=UTC) for t, _ in points]
                    ax.plot(xs, [v for _, v in points], label=key, linewidth=1.2)  # type: ignore[arg-type]  # datetimes are plotted as dates
            ax.set_title(title)
            ax.set_ylabel(unit)
            ax.grid(True, alpha=0.3)
            locator = mdates.AutoDateLocator(tz=UTC)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
            ax.set_xlabel("time (UTC)")
            if len(keys) > 1:
                ax.legend(loc="upper left", fontsize="small")
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
        finally:
            plt.close(fig)
        atomic.write_bytes(out / name, buf.getvalue())
        written.append(name)
    return written
