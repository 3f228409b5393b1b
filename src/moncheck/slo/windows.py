"""Multi-window multi-burn-rate windows per SLO period, computed exactly as Sloth does.

Sloth ships the Google SRE workbook windows for 28d and 30d periods
(``internal/alert/windows/google-{28,30}d.yaml``) and documents a 7d example
(``examples/windows/7d.yaml``). A burn factor is the speed that spends ``budget_percent`` of the
whole period's budget within the long window: ``budget% * period_hours / 100 / long_hours``.
"""

from __future__ import annotations

from dataclasses import dataclass

from moncheck.slo.gofmt import parse_duration

_H = 3_600_000


@dataclass(frozen=True)
class Window:
    budget_percent: float
    short_ms: int
    long_ms: int


@dataclass(frozen=True)
class Windows:
    period_ms: int
    page_quick: Window
    page_slow: Window
    ticket_quick: Window
    ticket_slow: Window

    def factor(self, w: Window) -> float:
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
