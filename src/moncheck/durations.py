"""Prometheus durations (``1h30m``, ``5m``, ``1500ms``, ``4w``): the one parser every part uses."""

from __future__ import annotations

import re

# Units in the order Prometheus requires them (model.ParseDuration), each at most once.
_PATTERN = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNIT_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)


def parse_ms(text: str) -> int:
    """Milliseconds of a Prometheus duration; ValueError naming the text when it is not one."""
    m = _PATTERN.match(text.strip()) if isinstance(text, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f"invalid duration {text!r}")
    return sum(int(g) * size for g, size in zip(m.groups(), _UNIT_MS) if g)
