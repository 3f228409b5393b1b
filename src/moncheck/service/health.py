"""The seed's /health: five dependency checks, an overall status, and the health_check_status gauge."""

from __future__ import annotations

import resource
import shutil
import threading
import time
from datetime import datetime, UTC
from typing import Any

from .db import Database, DatabaseError
from .faults import HEALTH_COMPONENTS, Faults
from .metrics import ServiceMetrics

VERSION = "1.0.0"
_GAUGE = {"healthy": 1.0, "degraded": 0.5, "unhealthy": 0.0}


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Health:
    def __init__(self, metrics: ServiceMetrics, faults: Faults, db: Database, memory_limit_mb: int) -> None:
        self.metrics, self.faults, self.db = metrics, faults, db
        self.memory_limit = memory_limit_mb * 1048576
        self.started = time.monotonic()
        self._refreshing = threading.Lock()

    def refresh_async(self) -> None:
        """Refresh the gauge in the background unless a refresh is already running.

        Scrapes call this: a slow dependency (an injected 800ms database) must never make
        /metrics slower than the scrape timeout, or the target goes down and hides the alert
        the slowness should raise.
        """
        if self._refreshing.acquire(blocking=False):
            threading.Thread(target=self._refresh, name="health-refresh", daemon=True).start()

    def _refresh(self) -> None:
        try:
            self.check()
        finally:
            self._refreshing.release()

    def _database(self) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            self.db.query("SELECT", "companies", lambda rows: next(iter(rows), None))
        except DatabaseError as e:
            return {"status": "unhealthy", "response_time": _ms(start), "error": str(e)}
        return {"status": "healthy", "response_time": _ms(start)}

    def _memory(self) -> dict[str, Any]:
        rss = _rss_bytes()
        percent = 100 * rss / self.memory_limit
        status = "unhealthy" if percent > 90 else "degraded" if percent > 80 else "healthy"
        return {"status": status, "details": {"rss_mb": round(rss / 1048576),
                                              "limit_mb": round(self.memory_limit / 1048576),
                                              "usage_percent": round(percent)}}

    @staticmethod
    def _disk() -> dict[str, Any]:
        usage = shutil.disk_usage("/")
        free = 100 * usage.free / usage.total
        status = "unhealthy" if free < 5 else "degraded" if free < 10 else "healthy"
        return {"status": status, "details": {"free_percent": round(free, 1)}}

    def check(self) -> dict[str, Any]:
        """Run every check, apply forced states, update the gauge; returns the seed's HealthCheck."""
        checks: dict[str, dict[str, Any]] = {
            "database": self._database(),
            # No real Redis or third-party APIs behind the reference service: healthy unless forced.
            "redis": {"status": "healthy", "response_time": 0.0},
            "external_apis": {"status": "healthy", "response_time": 0.0},
            "disk_space": self._disk(),
            "memory": self._memory(),
        }
        for comp, state in self.faults.forced_health().items():
            checks[comp]["status"] = state
            if state != "healthy":
                checks[comp]["error"] = f"{comp} forced {state} (injected fault)"
        gauge = self.metrics["health_check_status"]
        for comp in HEALTH_COMPONENTS:
            gauge.labels(component=comp).set(_GAUGE[checks[comp]["status"]])
        states = {c["status"] for c in checks.values()}
        overall = "unhealthy" if "unhealthy" in states else "degraded" if "degraded" in states else "healthy"
        return {
            "status": overall,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "checks": checks,
            "version": VERSION,
            "uptime": round(time.monotonic() - self.started, 3),
        }


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
