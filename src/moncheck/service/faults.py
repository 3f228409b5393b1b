"""Fault state of the reference service, set through the loopback-only control port.

``POST /faults`` updates only the keys it names; ``DELETE /faults`` resets everything and frees
grown memory. Ratios are applied deterministically (an accumulator, not a coin flip) so a drill
with ``error_ratio: 0.25`` gets exactly one error in four matched requests.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

HEALTH_COMPONENTS = ("database", "redis", "external_apis", "disk_space", "memory")
HEALTH_STATES = ("healthy", "degraded", "unhealthy")
MAX_LATENCY_MS = 60_000
MAX_GROWTH_MB_PER_S = 200


class FaultError(ValueError):
    """Invalid fault request; the message is returned to the caller with status 400."""


@dataclass
class FaultState:
    error_ratio: float = 0.0
    exception_ratio: float = 0.0  # a real exception in the handler: error tracking, error log line
    latency_ms: float = 0.0
    db_failures: float = 0.0
    db_latency_ms: float = 0.0
    memory_growth_mb_per_s: float = 0.0
    health: dict[str, str] = field(default_factory=dict)
    routes: list[str] | None = None


def _number(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError(f"{key}: expected a number, got {type(value).__name__}")
    if not low <= value <= high:
        raise FaultError(f"{key}: {value} is outside {low:g}..{high:g}")
    return float(value)


def parse_update(body: Any, known_routes: set[str]) -> dict[str, Any]:
    """Validated updates from a ``POST /faults`` body; raises FaultError naming the key."""
    if not isinstance(body, dict):
        raise FaultError("body must be a JSON object")
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("error_ratio", "exception_ratio"):
            out[key] = _number(key, value, 0, 1)
        elif key in ("latency_ms", "db_latency_ms"):
            out[key] = _number(key, value, 0, MAX_LATENCY_MS)
        elif key == "db_failures":
            out[key] = (1.0 if value else 0.0) if isinstance(value, bool) else _number(key, value, 0, 1)
        elif key == "memory_growth_mb_per_s":
            out[key] = _number(key, value, 0, MAX_GROWTH_MB_PER_S)
        elif key == "health":
            out[key] = _health(value)
        elif key == "routes":
            out[key] = _routes(value, known_routes)
        else:
            raise FaultError(
                f"{key}: unknown fault (known: error_ratio, exception_ratio, latency_ms, db_failures, db_latency_ms, "
                "memory_growth_mb_per_s, health, routes)"
            )
    return out


def _health(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        if value not in HEALTH_STATES:
            raise FaultError(f"health: {value!r} is not one of {', '.join(HEALTH_STATES)}")
        # A bare overall status forces one dependency, as a real outage would: `external_apis`
        # for degraded/unhealthy (keeps the database honest for db drills), nothing for healthy.
        return {} if value == "healthy" else {"external_apis": value}
    if isinstance(value, dict):
        for comp, state in value.items():
            if comp not in HEALTH_COMPONENTS:
                raise FaultError(f"health.{comp}: unknown component (known: {', '.join(HEALTH_COMPONENTS)})")
            if state not in HEALTH_STATES:
                raise FaultError(f"health.{comp}: {state!r} is not one of {', '.join(HEALTH_STATES)}")
        return dict(value)
    raise FaultError("health: expected a status string or an object {component: status}")


def _routes(value: Any, known: set[str]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise FaultError("routes: expected a list of route templates")
    unknown = [r for r in value if r not in known]
    if unknown:
        raise FaultError(f"routes: unknown route template(s) {unknown}; known: {sorted(known)}")
    return list(value)


class _Ratio:
    """Deterministic ratio: ``hit()`` is true for exactly ``ratio`` of the calls (rounded down)."""

    def __init__(self) -> None:
        self.acc = 0.0

    def hit(self, ratio: float) -> bool:
        if ratio <= 0:
            return False
        self.acc += ratio
        if self.acc >= 1.0 - 1e-9:
            self.acc -= 1.0
            return True
        return False


class Faults:
    """Thread-safe fault state plus the bounded memory-growth worker."""

    def __init__(self, known_routes: set[str], memory_cap_mb: int = 1024) -> None:
        self.known_routes = known_routes
        self.memory_cap = memory_cap_mb * 1024 * 1024
        self._lock = threading.Lock()
        self._state = FaultState()
        self._errors = _Ratio()
        self._exceptions = _Ratio()
        self._db = _Ratio()
        self._ballast: list[bytearray] = []
        self._ballast_bytes = 0
        self._stop = threading.Event()
        self._grower = threading.Thread(target=self._grow, name="memory-growth", daemon=True)
        self._grower.start()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            data = asdict(self._state)
            data["memory_grown_mb"] = round(self._ballast_bytes / 1048576, 1)
            data["memory_cap_mb"] = self.memory_cap // 1048576
        return data

    def update(self, body: Any) -> dict[str, Any]:
        changes = parse_update(body, self.known_routes)
        with self._lock:
            for key, value in changes.items():
                setattr(self._state, key, value)
        return self.snapshot()

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._state = FaultState()
            self._errors, self._exceptions, self._db = _Ratio(), _Ratio(), _Ratio()
            self._ballast.clear()  # large blocks are mmap'd, so dropping them returns RSS to the OS
            self._ballast_bytes = 0
        return self.snapshot()

    def _applies(self, route: str) -> bool:
        routes = self._state.routes
        if routes is None:
            # /metrics and /health are never hit by generic faults: a scrape must keep working
            # and /health has its own `health` fault.
            return route not in ("/metrics", "/health")
        return route in routes

    def request_latency(self, route: str) -> float:
        """Seconds to delay a request on ``route``."""
        with self._lock:
            return self._state.latency_ms / 1000 if self._applies(route) else 0.0

    def request_error(self, route: str) -> bool:
        with self._lock:
            return self._applies(route) and self._errors.hit(self._state.error_ratio)

    def request_exception(self, route: str) -> bool:
        with self._lock:
            return self._applies(route) and self._exceptions.hit(self._state.exception_ratio)

    def db_call(self) -> tuple[float, bool]:
        """(delay seconds, fail?) for one simulated database call."""
        with self._lock:
            return self._state.db_latency_ms / 1000, self._db.hit(self._state.db_failures)

    def db_failing(self) -> bool:
        with self._lock:
            return self._state.db_failures > 0

    def forced_health(self) -> dict[str, str]:
        with self._lock:
            return dict(self._state.health)

    def stop(self) -> None:
        self._stop.set()
        self.clear()

    def _grow(self) -> None:
        step = 0.1
        while not self._stop.wait(step):
            with self._lock:
                rate = self._state.memory_growth_mb_per_s
                room = self.memory_cap - self._ballast_bytes
                size = min(int(rate * 1048576 * step), room)
                if size <= 0:
                    continue
                # Non-zero fill touches every page so the growth shows in RSS, not just VSZ.
                self._ballast.append(bytearray(b"\x5a") * size)
                self._ballast_bytes += size
