"""Prometheus's float arithmetic for ``rate``, ``increase`` and ``irate``, bit for bit.

The burn model (``burnmodel``) only draws conclusions a margin away from a threshold, so that
rounding cannot change them. One kind of mutant needs the opposite: ``>`` -> ``>=`` on a burn
condition differs only where the recorded ratio *is* the threshold, to the last bit. This
module computes what Prometheus computes, operation by operation in IEEE-754 doubles (Python's
floats round like Go's), for the input promtool tests hold: one sample a minute from minute 0,
counters that never decrease. Both range conventions are covered: Prometheus 2.x selects the
samples of ``[t - range, t]``, 3.x those of ``(t - range, t]``, and the two extrapolate in a
slightly different order (``promql/functions.go``, ``extrapolatedRate``).

``tests/unit/test_slo_exact.py`` holds the values promtool 2.42 and 3.5 printed for such inputs;
a Prometheus release that computed differently would fail the generated tests' own precondition
(the ratio equals the threshold) with that message, not pass them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

STEP_S = 60.0  # seconds between samples


class Samples(Protocol):
    """A counter's samples by minute: a list, or a dict holding only the minutes read."""

    def __getitem__(self, minute: int, /) -> float: ...


def first_sample(t: int, window: int, version: int) -> int:
    """The minute of the first sample of ``x[window m]`` at minute ``t``."""
    return max(t - window + 1 if version >= 3 else t - window, 0)


def counter_fn(cum: Samples, t: int, window: int, fn: str, version: int, start: int = 0,
               end: int | None = None) -> float | None:
    """``fn(x[window m])`` evaluated at minute ``t``, where ``cum[m]`` is the counter's sample at
    minute ``m`` for every minute from ``start`` to ``end`` (the series has no other samples;
    only the first and last in range are read, and the one before the last for irate); None
    where Prometheus returns no sample (fewer than two in range)."""
    lo = max(first_sample(t, window, version), start)
    hi = t if end is None else min(t, end)
    n = hi - lo  # intervals between the samples in range
    if n < 1:
        return None
    if fn == "irate":
        return (cum[hi] - cum[hi - 1]) / (60_000 / 1000)
    first, last = cum[lo], cum[hi]
    delta = last - first
    sampled = n * 60_000 / 1000  # Go: float64(lastT-firstT) / 1000
    avg = sampled / n
    to_start = (lo - (t - window)) * 60_000 / 1000
    to_end = (t - hi) * 60_000 / 1000
    threshold = avg * 1.1
    if version >= 3:
        if to_start >= threshold:
            to_start = avg / 2
        if delta > 0 and first >= 0:
            to_zero = sampled * (first / delta)
            if to_zero < to_start:
                to_start = to_zero
        if to_end >= threshold:
            to_end = avg / 2
        factor = (sampled + to_start + to_end) / sampled
    else:
        if delta > 0 and first >= 0:
            to_zero = sampled * (first / delta)
            if to_zero < to_start:
                to_start = to_zero
        ext = sampled
        ext += to_start if to_start < threshold else avg / 2
        ext += to_end if to_end < threshold else avg / 2
        factor = ext / sampled
    if fn == "rate":
        factor /= window * STEP_S
    return delta * factor


def vsum(values: Sequence[float]) -> float:
    """``sum`` of an instant vector of one or two samples: Prometheus 2.x adds them, 3.x adds
    them with Kahan compensation, which for two summands is the rounded sum again, in either
    order. More summands would depend on the series order: callers do not ask for that."""
    if not 1 <= len(values) <= 2:
        raise ValueError("vsum takes one or two values")
    return values[0] if len(values) == 1 else values[0] + values[1]
