"""A small client for the Prometheus and Alertmanager HTTP APIs (the daily report, the SLO
budget report), and Prometheus duration strings.

Credentials and TLS (bearer token, basic auth, CA bundle, client certificate, headers) come from
the target's ``moncheck.httpauth.HttpAuth``; failures are one line naming the target, never a
secret."""

from __future__ import annotations

import math
from typing import Any

import requests

from moncheck import durations, httpauth


class ApiError(Exception):
    """A request that failed; the message names the URL and what came back."""


class Unreachable(ApiError):
    """No answer at all (refused, timed out): ``base`` is the server, ``reason`` the error type."""

    def __init__(self, message: str, base: str, reason: str) -> None:
        super().__init__(message)
        self.base = base
        self.reason = reason


def parse_duration(text: str) -> float:
    """Seconds of a Prometheus duration such as ``24h``, ``1h30m`` or ``90s``."""
    try:
        return durations.parse_ms(text) / 1000
    except ValueError:
        raise ValueError(f"invalid duration {text!r} (use e.g. 24h, 90m, 1h30m)") from None


def format_duration(seconds: float) -> str:
    """A Prometheus duration string for ``seconds`` (whole seconds)."""
    s = max(1, round(seconds))
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            out += f"{s // size}{unit}"
            s %= size
    return out


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


class Api:
    def __init__(self, base: str, name: str, timeout: float = 15.0,
                 auth: httpauth.HttpAuth | None = None) -> None:
        self.base = base.rstrip("/")
        self.name = name
        self.timeout = timeout
        self.auth = auth
        try:
            self.session = httpauth.session(auth)
        except httpauth.AuthError as e:
            raise ApiError(f"{name} at {self.base}: credentials unavailable: {e}") from None

    def get(self, path: str, params: dict[str, Any] | None = None, what: str = "") -> Any:
        """The JSON body of ``GET base+path``; ``what`` (e.g. the query) is named when the
        server rejects the request."""
        url = self.base + path
        try:
            r = self.session.get(url, params=params, timeout=self.timeout)
        except requests.RequestException as e:
            reason = httpauth.describe_failure(e)
            raise Unreachable(f"{self.name} at {url}: cannot connect ({reason})", self.base, reason) from None
        denied = httpauth.rejected(r.status_code, self.auth)
        if denied:
            raise ApiError(f"{self.name} at {url}: {denied}")
        try:
            body = r.json()
        except ValueError:
            raise ApiError(f"{self.name} at {url}: HTTP {r.status_code}, not JSON: {r.text[:100]!r}") from None
        if r.status_code >= 400 or (isinstance(body, dict) and body.get("status") == "error"):
            err = body.get("error") if isinstance(body, dict) else body
            raise ApiError(f"{self.name} at {url}: HTTP {r.status_code}: {err}"
                           + (f": {what}" if what else ""))
        return body


class Prometheus(Api):
    def __init__(self, base: str, timeout: float = 15.0, auth: httpauth.HttpAuth | None = None) -> None:
        super().__init__(base, "Prometheus", timeout, auth)

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query at ``at`` (Unix seconds; None: Prometheus' now). A scalar result comes
        back as one series without labels."""
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        data = self.get("/api/v1/query", params, what=expr)["data"]
        result = data["result"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": result}]
        return result

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        """Value of a single-series result; None when the result is empty or NaN."""
        result = self.query(expr, at)
        if not result:
            return None
        value = _float(result[0]["value"][1])
        return None if math.isnan(value) else value

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query_range",
                        {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
                        what=expr)["data"]
        return [{"metric": s["metric"], "values": [(float(t), _float(v)) for t, v in s["values"]]}
                for s in data["result"]]

    def samples(self, selector: str, window: str, at: float) -> list[dict[str, Any]]:
        """Raw samples of ``selector[window]`` (a range-vector instant query)."""
        result = self.query(f"{selector}[{window}]", at)
        return [{"metric": s["metric"], "values": [(float(t), _float(v)) for t, v in s["values"]]}
                for s in result]

    def version(self) -> str | None:
        """The server's version (``/api/v1/status/buildinfo``), None when it does not say."""
        try:
            return str(self.get("/api/v1/status/buildinfo")["data"]["version"])
        except (ApiError, KeyError, TypeError):
            return None

    def scrape_interval(self, default: float = 15.0) -> float:
        """The global scrape interval from the loaded configuration (seconds)."""
        return self.scrape_intervals(default)[0]

    def scrape_intervals(self, default: float = 15.0) -> tuple[float, dict[str, float]]:
        """The global scrape interval and each job's own (seconds), from the loaded configuration.

        A job may scrape slower than the global interval (the local stack scrapes Prometheus and
        Alertmanager themselves at 1s while the compressed global interval is 250ms), so a gap in
        a job's ``up`` series is judged against that job's interval.
        """
        import yaml

        try:
            cfg = yaml.safe_load(self.get("/api/v1/status/config")["data"]["yaml"]) or {}
            glob = parse_duration(str((cfg.get("global") or {}).get("scrape_interval", "15s")))
            jobs = {str(j["job_name"]): parse_duration(str(j.get("scrape_interval") or glob))
                    for j in cfg.get("scrape_configs") or [] if isinstance(j, dict) and "job_name" in j}
            return glob, jobs
        except (ApiError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError):
            return default, {}


class Alertmanager(Api):
    def __init__(self, base: str, timeout: float = 15.0, auth: httpauth.HttpAuth | None = None) -> None:
        super().__init__(base, "Alertmanager", timeout, auth)

    def version(self) -> str | None:
        """The server's version (``/api/v2/status``), None when it does not say."""
        try:
            return str(self.get("/api/v2/status")["versionInfo"]["version"])
        except (ApiError, KeyError, TypeError):
            return None

    def alerts(self) -> list[dict[str, Any]]:
        return self.get("/api/v2/alerts", {"active": "true", "silenced": "true", "inhibited": "true"})
