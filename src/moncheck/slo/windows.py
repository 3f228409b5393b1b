"""Multi-window multi-burn-rate windows per SLO period, computed exactly as Sloth does.

Sloth v0.16 embeds the Google SRE workbook windows for 28d and 30d periods
(``internal/alert/windows/google-{28,30}d.yaml``) and ships a 7d example
(``examples/windows/7d.yaml``); moncheck has all three built in. A burn factor is the speed that
spends ``budget_percent`` of the whole period's budget within the long window:
``budget% * period_hours / 100 / long_hours``.

Custom windows come from Sloth's own ``AlertWindows`` files (``sloth.slok.dev/v1``), read with
the hardened loader (``parse_alert_windows``); as Sloth's ``--slo-period-windows-path`` does,
a set of custom files replaces the built-in windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moncheck import yamlpos
from moncheck.findings import Finding, error
from moncheck.slo.gofmt import parse_duration, prom_duration

_H = 3_600_000
_MIN = 60_000
API_VERSION, KIND = "sloth.slok.dev/v1", "AlertWindows"
CHECK = "slo/windows"


@dataclass(frozen=True)
class Window:
    budget_percent: float
    short_ms: int
    long_ms: int
    # An OpenSLO burn-rate condition states its burn rate; Sloth's windows state a budget share.
    burn_rate: float | None = None


@dataclass(frozen=True)
class Windows:
    period_ms: int
    page_quick: Window
    page_slow: Window
    ticket_quick: Window
    ticket_slow: Window

    def factor(self, w: Window) -> float:
        if w.burn_rate is not None:
            return w.burn_rate
        # Same float operations, in the same order, as Sloth's getBurnRateFactor.
        hours_required = w.budget_percent * (self.period_ms / _H) / 100
        return hours_required / (w.long_ms / _H)

    def all_windows_ms(self) -> list[int]:
        ws = {x for w in (self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow)
              for x in (w.short_ms, w.long_ms)}
        return sorted(ws)


def _w(pct: float, short: str, long: str) -> Window:
    return Window(pct, parse_duration(short), parse_duration(long))


def _google(period: str) -> Windows:
    return Windows(parse_duration(period), _w(2, "5m", "1h"), _w(5, "30m", "6h"),
                   _w(10, "2h", "1d"), _w(10, "6h", "3d"))


SUPPORTED: dict[int, Windows] = {
    w.period_ms: w
    for w in (
        _google("30d"),
        _google("28d"),
        Windows(parse_duration("7d"), _w(8, "5m", "1h"), _w(12.5, "30m", "6h"),
                _w(20, "2h", "1d"), _w(42, "6h", "3d")),
    )
}

DEFAULT_PERIOD_MS = parse_duration("30d")


def for_period(period_ms: int) -> Windows | None:
    return SUPPORTED.get(period_ms)


def periods_text(windows: dict[int, Windows]) -> str:
    return ", ".join(prom_duration(p) for p in sorted(windows)) or "none loaded"


def window_problem(ms: int) -> str | None:
    """Why a window cannot be used: the generated tests sample once a minute, so a window is a
    whole number of minutes, at least 2 (``rate`` needs two samples)."""
    if ms % _MIN or ms < 2 * _MIN:
        return f"{prom_duration(ms)} is not a whole number of minutes of at least 2m"
    return None


# ---------------------------------------------------------------- AlertWindows files


def parse_alert_windows(doc: Any, path: str) -> tuple[Windows | None, list[Finding]]:
    """One ``AlertWindows`` document (Sloth's ``pkg/prometheus/alertwindows/v1``), validated
    as Sloth's ``windowLoader`` does, with every error at its line."""
    errs: list[Finding] = []

    def bad(node: Any, key: str | None, message: str) -> None:
        errs.append(error(CHECK, path, yamlpos.line_of(node, key), message))

    if not isinstance(doc, dict):
        bad(doc, None, f"expected a mapping with apiVersion {API_VERSION!r} and kind {KIND!r}")
        return None, errs
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != KIND:
        bad(doc, "kind" if "kind" in doc else None,
            f"invalid spec version: expected apiVersion {API_VERSION!r} and kind {KIND!r}, "
            f"got {doc.get('apiVersion')!r}/{doc.get('kind')!r}")
        return None, errs
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        bad(doc, "spec" if "spec" in doc else None, "spec is required (a mapping)")
        return None, errs
    period = _duration(spec, "sloPeriod", "sloPeriod", bad)
    got: dict[str, Window] = {}
    nodes: dict[str, Any] = {}
    for sev in ("page", "ticket"):
        sub = spec.get(sev)
        if not isinstance(sub, dict):
            bad(spec, sev if sev in spec else None, f"{sev} is required (quick and slow windows)")
            continue
        for speed in ("quick", "slow"):
            w = sub.get(speed)
            where = f"{sev} {speed}"
            if not isinstance(w, dict):
                bad(sub, speed if speed in sub else None, f"invalid {where}: a mapping with "
                    "errorBudgetPercent, shortWindow and longWindow is required")
                continue
            pct = w.get("errorBudgetPercent")
            if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 < pct <= 100:
                bad(w, "errorBudgetPercent" if "errorBudgetPercent" in w else None,
                    f"invalid {where}: errorBudgetPercent must be a number in (0, 100]")
                pct = None
            short = _duration(w, "shortWindow", f"invalid {where}: shortWindow", bad)
            long = _duration(w, "longWindow", f"invalid {where}: longWindow", bad)
            if short is not None and long is not None and short >= long:
                bad(w, "shortWindow", f"invalid {where}: shortWindow {prom_duration(short)} "
                    f"must be shorter than longWindow {prom_duration(long)}")
            elif pct is not None and short is not None and long is not None:
                got[f"{sev}_{speed}"] = Window(float(pct), short, long)
                nodes[f"{sev}_{speed}"] = w
    if period is not None:
        for key, w in got.items():
            if w.long_ms >= period:
                errs.append(error(CHECK, path, yamlpos.line_of(nodes[key], "longWindow"),
                                  f"invalid {key.replace('_', ' ')}: longWindow "
                                  f"{prom_duration(w.long_ms)} is not shorter than the SLO "
                                  f"period {prom_duration(period)}"))
    if errs or period is None or len(got) != 4:
        return None, errs
    return Windows(period, got["page_quick"], got["page_slow"], got["ticket_quick"],
                   got["ticket_slow"]), errs


def _duration(node: dict, key: str, what: str, bad: Any) -> int | None:
    v = node.get(key)
    if v is None:
        bad(node, None, f"{what} is required")
        return None
    try:
        ms = parse_duration(str(v))
    except ValueError as e:
        bad(node, key, f"{what}: {e}")
        return None
    why = window_problem(ms) if key != "sloPeriod" else (
        None if ms >= _H else f"{prom_duration(ms)} is shorter than 1h")
    if ms <= 0 or why:
        bad(node, key, f"{what}: {why or 'must be positive'}")
        return None
    return ms
