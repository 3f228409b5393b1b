"""HTTP layer: the service server (keep-alive, per-request metrics and logs) and the control server."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .analytics import InvalidBody
from .app import App, Request, Response
from .db import DatabaseError
from .faults import FaultError, Faults
from .logs import JsonLogger
from .telemetry import InjectedError, RequestContext, Telemetry

MAX_BODY = 1 << 20


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # Locust opens many connections at once

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        host = addr[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__(addr, handler)


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    disable_nagle_algorithm = True
    server_version = "gocarbon-tracker"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # replaced by the JSON request log

    def _read_body(self) -> bytes | int:
        """The request body, or the status already sent (411/413) for an unusable length."""
        raw = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send(Response(411, {"error": "chunked bodies are not supported; send Content-Length"}), close=True)
            return 411
        try:
            length = int(raw) if raw else 0
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            # The unread body would be parsed as the next request, so the connection is closed.
            self._send(Response(413, {"error": f"body must be 0..{MAX_BODY} bytes"}), close=True)
            return 413
        return self.rfile.read(length) if length else b""

    def _send(self, resp: Response, *, close: bool = False) -> None:
        data = b"" if resp.status in (204, 304) else resp.encode()
        self.send_response(resp.status)
        if data or resp.status not in (204, 304):
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)


def make_service_handler(app: App, faults: Faults, logger: JsonLogger,
                         telemetry: Telemetry) -> type[BaseHTTPRequestHandler]:
    http_total = app.metrics["http_requests_total"]
    http_duration = app.metrics["http_request_duration_seconds"]
    active = app.metrics["http_active_connections"].single()

    class ServiceHandler(_BaseHandler):
        def setup(self) -> None:
            super().setup()
            active.inc()

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                active.dec()

        def _handle(self) -> None:
            start = time.perf_counter()
            path = self.path.split("?", 1)[0]
            method = self.command
            route, handler, params = app.resolve(method, path)
            with telemetry.request(method, route, path, self.headers) as req:
                body = self._read_body()
                if isinstance(body, int):
                    status = body
                else:
                    resp = self._dispatch(method, path, route, handler, params, body, req)
                    resp.headers["X-Request-Id"] = req.request_id
                    status = resp.status
                    self._send(resp)
                elapsed = time.perf_counter() - start
                req.attributes["http.response.status_code"] = status
                # Labelled by route TEMPLATE, never the raw path. Only cataloged methods have a do_*;
                # anything else gets the stdlib's 501 without touching the metrics.
                labels = {"method": method, "route": route, "status_code": str(status)}
                http_total.labels(**labels).inc()
                # The exemplar names only a trace that is kept (sampled): it must lead somewhere.
                exemplar = {"trace_id": req.trace_id} if req.sampled else None
                http_duration.labels(**labels).observe(elapsed, exemplar)
                logger.request(method=method, url=self.path, route=route, status=status,
                               duration_ms=elapsed * 1000, user_agent=self.headers.get("User-Agent"),
                               ip=self.client_address[0])

        def _dispatch(self, method: str, path: str, route: str, handler: Any, params: dict[str, str],
                      body: bytes, req: RequestContext) -> Response:
            delay = faults.request_latency(route)
            if delay:
                time.sleep(delay)
            if handler is None:
                if route == "unmatched":
                    return Response(404, {"error": "not found"})
                return Response(405, {"error": f"method {method} not allowed on {route}"})
            if faults.request_error(route):
                return Response(500, {"error": "internal server error (injected fault)"})
            try:
                if faults.request_exception(route):
                    raise InjectedError(f"injected unhandled error on {route}")
                return handler(Request(method, path, route, params, self.headers, body))
            except InvalidBody as e:
                # Offered to error tracking like any error: the policy's filter drops it.
                telemetry.capture(e, req)
                logger.log("warn", "Validation error", route=route, field=e.field, error=str(e),
                           error_type=type(e).__name__)
                return Response(400, {"error": "invalid request body", "field": e.field, "message": str(e)})
            except DatabaseError as e:
                return Response(500, {"error": "database error", "error_type": e.error_type})
            except Exception as e:  # noqa: BLE001 - a handler bug is a 500, not a dead connection
                event_id = telemetry.capture(e, req)
                logger.log("error", "Unhandled error", route=route, error=repr(e), error_type=type(e).__name__,
                           stack="".join(traceback.format_exception(e))[-4000:], sentry_event_id=event_id)
                return Response(500, {"error": "internal server error"})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return ServiceHandler


def make_control_handler(faults: Faults) -> type[BaseHTTPRequestHandler]:
    class ControlHandler(_BaseHandler):
        def _route(self) -> bool:
            if self.path.split("?", 1)[0].rstrip("/") != "/faults":
                self._send(Response(404, {"error": "only /faults lives here"}))
                return False
            return True

        def do_GET(self) -> None:
            if self._route():
                self._send(Response(200, faults.snapshot()))

        def do_DELETE(self) -> None:
            if self._route():
                self._send(Response(200, faults.clear()))

        def do_POST(self) -> None:
            body = self._read_body()
            if isinstance(body, int) or not self._route():
                return
            try:
                state = faults.update(json.loads(body or b"null"))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                self._send(Response(400, {"error": f"body is not valid JSON: {e}"}))
            except FaultError as e:
                self._send(Response(400, {"error": str(e)}))
            else:
                self._send(Response(200, state))

    return ControlHandler


def make_server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    return _Server((host, port), handler)


class UptimeMonitor:
    """The seed's uptime monitor, pointed at this service: homepage, /health and /dashboard."""

    CHECKS = (("homepage", "/", 10.0), ("api_health", "/health", 5.0), ("dashboard", "/dashboard", 15.0))

    def __init__(self, app: App, host: str, port: int, interval: float) -> None:
        self.metric = app.metrics["uptime_check_duration_seconds"]
        self.host = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
        self.port, self.interval = port, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="uptime-monitor", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, path, timeout in self.CHECKS:
                if self._stop.is_set():
                    return
                start = time.perf_counter()
                ok = False
                try:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
                    try:
                        conn.request("GET", path, headers={"User-Agent": "gocarbon-uptime-monitor"})
                        resp = conn.getresponse()
                        resp.read()
                        ok = resp.status == 200
                    finally:
                        conn.close()
                except OSError:
                    ok = False
                self.metric.labels(check=name, result="success" if ok else "failure").observe(
                    time.perf_counter() - start)
