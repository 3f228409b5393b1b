"""Go-compatible formatting, so generated rules match Sloth's byte for byte.

Sloth formats floats with Go's ``%g``/``%v`` (shortest representation that round-trips) and
durations with ``prometheus/common/model.Duration.String`` (``28d`` becomes ``4w``).
"""

from __future__ import annotations

from moncheck import durations

_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
       "y": 31_536_000_000}


def go_float(x: float) -> str:
    """Go's ``strconv.FormatFloat(x, 'g', -1, 64)`` (what ``%g`` and ``%v`` print)."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # Python's repr is also the shortest round-tripping decimal; only the layout differs.
    digits_repr = repr(abs(x))
    if "e" in digits_repr:
        m, _, e = digits_repr.partition("e")
        digits = m.replace(".", "")
        exp = int(e) + (len(m.split(".")[0]) - 1)
    else:
        ip, _, fp = digits_repr.partition(".")
        fp = fp.rstrip("0") if fp != "0" else ""
        if ip != "0":
            digits, exp = (ip + fp).lstrip("0"), len(ip.lstrip("0")) - 1
        else:
            stripped = fp.lstrip("0")
            digits, exp = stripped, -(len(fp) - len(stripped)) - 1
    digits = digits.rstrip("0") or "0"
    # strconv: with the shortest precision, %e form is used when exp < -4 or exp >= 6.
    if exp < -4 or exp >= 6:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{m}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return f"{sign}{digits}{'0' * (exp + 1 - len(digits))}"
    return f"{sign}{digits[:exp + 1]}.{digits[exp + 1:]}"


def parse_duration(text: str) -> int:
    """Prometheus duration (``5m``, ``1h30m``, ``4w``) to milliseconds; ValueError if invalid."""
    try:
        return durations.parse_ms(text)
    except ValueError:
        raise ValueError(f"invalid duration {text!r} (expected e.g. 5m, 1h, 30d)") from None


def prom_duration(ms: int) -> str:
    """``model.Duration.String``: years and weeks only when exact, then d, h, m, s, ms."""
    if ms == 0:
        return "0s"
    out = ""
    for unit, exact in (("y", True), ("w", True), ("d", False), ("h", False), ("m", False),
                        ("s", False), ("ms", False)):
        mult = _MS[unit]
        if exact and ms % mult:
            continue
        v = ms // mult
        if v > 0:
            out += f"{v}{unit}"
            ms -= v * mult
    return out
