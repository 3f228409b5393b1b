"""A simulated in-memory database layer with the seed's ``instrumentQuery`` instrumentation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .faults import Faults
from .metrics import ServiceMetrics

T = TypeVar("T")


class DatabaseError(Exception):
    """A failed database call; ``error_type`` is a cataloged database_connection_errors_total value."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class Database:
    """Tables are dicts of rows; every access goes through ``query`` so it is timed."""

    def __init__(self, metrics: ServiceMetrics, faults: Faults) -> None:
        self.metrics = metrics
        self.faults = faults
        self._lock = threading.Lock()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {
            "companies": {str(i): {"id": str(i), "name": f"Company {i}"} for i in range(1, 6)},
            "emissions": {},
            "emission_factors": {"electricity": {"id": "electricity", "kg_co2e_per_kwh": 0.233}},
            "reports": {"1": {"id": "1", "title": "Annual footprint"}},
            "targets": {"1": {"id": "1", "company_id": "1", "reduction_percent": 42}},
            "users": {},
        }
        self._next_id = 1

    def query(self, query_type: str, table: str, fn: Callable[[dict[str, dict[str, Any]]], T]) -> T:
        """Run ``fn(rows)`` as one query, observing its duration even when it fails (as the seed)."""
        child = self.metrics["database_query_duration_seconds"].labels(query_type=query_type, table=table)
        start = time.perf_counter()
        try:
            delay, fail = self.faults.db_call()
            if delay:
                time.sleep(delay)
            if fail:
                self.metrics["database_connection_errors_total"].labels(error_type="connection_refused").inc()
                raise DatabaseError("connection_refused", "database connection refused (injected fault)")
            with self._lock:
                return fn(self.tables[table])
        finally:
            child.observe(time.perf_counter() - start)

    def new_id(self) -> str:
        with self._lock:
            self._next_id += 1
            return str(self._next_id)
