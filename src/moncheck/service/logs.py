"""Structured JSON logs with the seed's fields, one line per request (``monitoring/logging/``).

Every line carries the active request's ``trace_id``, ``span_id`` and ``request_id`` (taken from
``context()``, the telemetry's current request), never a user id (``logging/forbidden-field``).
Lines at level ``error`` also go to the error log when one is given (the seed's ``logs/error.log``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, UTC
from typing import Any, TextIO

SERVICE = "gocarbon-tracker"


class JsonLogger:
    def __init__(self, stream: TextIO, environment: str,
                 context: Callable[[], dict[str, str]] | None = None, error_stream: TextIO | None = None) -> None:
        self.stream = stream
        self.error_stream = error_stream
        self.environment = environment
        self.context = context or dict
        self._lock = threading.Lock()

    def log(self, level: str, message: str, **fields: Any) -> None:
        record = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "message": message,
            **fields,
            **self.context(),
            "service": SERVICE,
            "environment": self.environment,
        }
        line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
        streams = [self.stream] + ([self.error_stream] if level == "error" and self.error_stream else [])
        with self._lock:
            for stream in streams:
                try:
                    stream.write(line)
                    stream.flush()
                except (OSError, ValueError):
                    pass  # a closed or broken log stream must not take requests down

    def request(self, *, method: str, url: str, route: str, status: int, duration_ms: float,
                user_agent: str | None, ip: str) -> None:
        level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        self.log(level, "HTTP Request", method=method, url=url, route=route, statusCode=status,
                 duration=round(duration_ms, 3), userAgent=user_agent, ip=ip)
