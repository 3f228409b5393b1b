"""Structured JSON request logs with the seed's fields, one line per request."""

from __future__ import annotations

import json
import threading
from datetime import datetime, UTC
from typing import Any, TextIO

SERVICE = "gocarbon-tracker"


class JsonLogger:
    def __init__(self, stream: TextIO, environment: str) -> None:
        self.stream = stream
        self.environment = environment
        self._lock = threading.Lock()

    def log(self, level: str, message: str, **fields: Any) -> None:
        record = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "message": message,
            **fields,
            "service": SERVICE,
            "environment": self.environment,
        }
        line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed or broken log stream must not take requests down

    def request(self, *, method: str, url: str, status: int, duration_ms: float, user_agent: str | None,
                ip: str, user_id: str | None) -> None:
        level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        self.log(level, "HTTP Request", method=method, url=url, statusCode=status, duration=round(duration_ms, 3),
                 userAgent=user_agent, ip=ip, userId=user_id)
