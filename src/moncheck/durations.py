"""Prometheus durations (``1h30m``, ``5m``, ``1500ms``, ``4w``, ``0``): the one parser every part uses.

Exactly Prometheus' ``model.ParseDuration`` (prometheus/common, as vendored by Prometheus 3.x and
Alertmanager): ``0`` alone is valid; otherwise one or more ``<digits><unit>`` with units from
``y w d h m s ms``, each at most once and in that order (``30m1h`` is invalid); no sign, no
fraction, no spaces; at most 2^63-1 nanoseconds. Older 2.x releases also took the empty string as
0; Prometheus 3 does not, nor do we.

``SCHEMA_PATTERN`` is the same grammar as a JSON-Schema (ECMA 262) pattern; every schema's duration
pattern is this string (tests/unit/test_durations.py walks the schemas). Only the overflow limit
cannot be written as a pattern: schemas also name ``"format": "duration"``, which the schema
validator checks with ``is_valid``.
"""

from __future__ import annotations

import re
from typing import Any

UNITS_MS: dict[str, int] = {
    "y": 365 * 86_400_000,
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1000,
    "ms": 1,
}
_ORDER = list(UNITS_MS)
_MAX_NS = (1 << 63) - 1
_TOKEN = re.compile(r"([0-9]+)([^0-9]*)")

# `$(?!\n)`: Python's `$` also matches before a final newline (jsonschema uses `re.search`);
# ECMA's does not, so the lookahead changes nothing there.
SCHEMA_PATTERN = (
    "^(0|(?=[0-9])([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$(?!\\n)"
)
FORMAT = "duration"


def parse_ms(text: Any) -> int:
    """Milliseconds of a Prometheus duration; ValueError naming the text when it is not one."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"invalid duration {text!r}: a Prometheus duration such as 30s, 5m or 1h30m")
    if text == "0":
        return 0
    total_ns, last, pos = 0, -1, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        unit = m.group(2) if m else ""
        if m is None or unit not in UNITS_MS:
            raise ValueError(f"invalid duration {text!r}: a Prometheus duration such as 30s, 5m or 1h30m")
        rank = _ORDER.index(unit)
        if rank <= last:
            raise ValueError(f"invalid duration {text!r}: units must go from largest to smallest, each once")
        last = rank
        total_ns += int(m.group(1)) * UNITS_MS[unit] * 1_000_000
        if total_ns > _MAX_NS:
            raise ValueError(f"invalid duration {text!r}: out of range")
        pos = m.end()
    return total_ns // 1_000_000


def is_valid(text: Any) -> bool:
    try:
        parse_ms(text)
    except ValueError:
        return False
    return True


def seconds(text: Any) -> float | None:
    """Seconds of a duration string, None when it is not one (numbers are taken as seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    try:
        return parse_ms(text) / 1000
    except ValueError:
        return None
