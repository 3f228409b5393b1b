"""Telemetry receiver of the local stack: Sentry envelopes and OTLP/HTTP traces, stored and queryable.

``python -m moncheck.stack.telemetry --port P`` (loopback only). The reference service's DSN is
``http://public@127.0.0.1:P/1`` and its OTLP endpoint ``http://127.0.0.1:P``:

- ``POST /api/<project>/envelope/`` (Sentry envelopes; gzip, deflate or br bodies) and
  ``POST /api/<project>/store/`` (a bare JSON event): each ``event`` item becomes one record of
  ``GET /events``: ``{event_id, received_at, environment, release, level, platform, exception_types,
  exception_values, handled, trace_id, span_id, tags, request_id}``. Other item types (sessions,
  client reports) are counted under ``GET /stats``, never stored as events.
- ``POST /v1/traces`` with ``application/x-protobuf`` or ``application/json`` (OTLP/HTTP; gzip
  allowed): each span becomes one record of ``GET /spans`` (``?trace_id=`` filters):
  ``{trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, duration_s, status,
  attributes, resource}``; ``GET /traces/<trace_id>`` lists one trace's spans.
- ``DELETE /events``, ``DELETE /spans`` clear those; ``DELETE /`` clears everything and the
  ``/stats`` counters; ``GET /health`` says ready.

Storage is in memory and bounded (oldest records go first, ``/stats`` counts what was dropped).
Malformed bodies get 400 with a one-line reason and are counted, never crash the receiver.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import signal
import sys
import threading
import time
import zlib
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from moncheck.netutil import is_loopback

MAX_BODY = 8 << 20
MAX_DECODED = 32 << 20
MAX_EVENTS = 10_000
MAX_SPANS = 200_000
SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS_CODES = {0: "unset", 1: "ok", 2: "error"}


class BadRequest(ValueError):
    """A body the receiver cannot read; the message goes back with status 400."""


# ---------------------------------------------------------------------------- decoding
def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadRequest(f"{what} is not JSON: {e}") from None


def decode_body(body: bytes, encoding: str | None) -> bytes:
    enc = (encoding or "identity").strip().lower()
    try:
        if enc in ("", "identity"):
            return body
        if enc == "gzip":
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            d = zlib.decompressobj()
        elif enc == "br":
            try:
                import brotli
            except ImportError:
                raise BadRequest("Content-Encoding br: brotli is not installed here") from None
            return bytes(brotli.decompress(body))
        else:
            raise BadRequest(f"unsupported Content-Encoding {enc!r}")
        out = d.decompress(body, MAX_DECODED)
    except (zlib.error, gzip.BadGzipFile, OSError) as e:
        raise BadRequest(f"cannot decode {enc} body: {e}") from None
    if d.unconsumed_tail:
        raise BadRequest(f"decoded body exceeds {MAX_DECODED} bytes")
    return out


def parse_envelope(data: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """(envelope header, [(item header, payload)]) of a Sentry envelope."""
    pos = data.find(b"\n")
    head_raw, pos = (data, len(data)) if pos < 0 else (data[:pos], pos + 1)
    header = _json(head_raw or b"{}", "envelope header")
    items: list[tuple[dict[str, Any], bytes]] = []
    while pos < len(data):
        end = data.find(b"\n", pos)
        line = data[pos:] if end < 0 else data[pos:end]
        pos = len(data) if end < 0 else end + 1
        if not line.strip():
            continue
        item = _json(line, "envelope item header")
        if not isinstance(item, dict):
            raise BadRequest("envelope item header is not an object")
        length = item.get("length")
        if isinstance(length, int) and length >= 0:
            payload = data[pos:pos + length]
            if len(payload) < length:
                raise BadRequest(f"envelope item {item.get('type')!r} is shorter than its length {length}")
            pos += length
            if data[pos:pos + 1] == b"\n":
                pos += 1
        else:
            end = data.find(b"\n", pos)
            payload = data[pos:] if end < 0 else data[pos:end]
            pos = len(data) if end < 0 else end + 1
        items.append((item, payload))
    return header if isinstance(header, dict) else {}, items


def event_record(event: dict[str, Any], received_at: float) -> dict[str, Any]:
    """The queryable summary of one error event (the whole event stays under ``event``)."""
    values = ((event.get("exception") or {}).get("values")) or []
    values = [v for v in values if isinstance(v, dict)]
    tr = _dict(_dict(event.get("contexts")).get("trace"))
    tags = event.get("tags") or {}
    if isinstance(tags, list):  # the wire format allows [[k, v], ...]
        tags = {str(k): v for k, v in (t for t in tags if isinstance(t, list) and len(t) == 2)}
    mech = _dict(values[-1].get("mechanism")) if values else {}
    return {
        "event_id": event.get("event_id"), "received_at": received_at,
        "environment": event.get("environment"), "release": event.get("release"),
        "level": event.get("level"), "platform": event.get("platform"),
        "exception_types": [v.get("type") for v in values],
        "exception_values": [v.get("value") for v in values],
        "handled": mech.get("handled"), "trace_id": tr.get("trace_id"), "span_id": tr.get("span_id"),
        "tags": tags, "request_id": tags.get("request_id") if isinstance(tags, dict) else None,
        "message": event.get("message") if isinstance(event.get("message"), str) else None,
        "event": event,
    }


def _dict(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def _hex_id(value: Any, field: str) -> str:
    """OTLP/JSON ids are hex strings (the spec), some exporters send base64: accept both."""
    if not isinstance(value, str) or not value:
        return ""
    v = value.strip()
    if all(c in "0123456789abcdefABCDEF" for c in v) and len(v) in (16, 32):
        return v.lower()
    try:
        return base64.b64decode(v, validate=True).hex()
    except ValueError:
        raise BadRequest(f"{field}: {value!r} is neither hex nor base64") from None


def _any_value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [_any_value(x) for x in (v["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in v:
        return _attrs((v["kvlistValue"] or {}).get("values"))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def _attrs(items: Any) -> dict[str, Any]:
    return {str(a.get("key")): _any_value(a.get("value")) for a in items or [] if isinstance(a, dict)}


def _span_record(s: dict[str, Any], resource: dict[str, Any], received_at: float) -> dict[str, Any]:
    start, end = int(s.get("startTimeUnixNano") or 0), int(s.get("endTimeUnixNano") or 0)
    code = _dict(s.get("status")).get("code", 0)
    kind = s.get("kind", 0)
    return {
        "trace_id": _hex_id(s.get("traceId"), "traceId"), "span_id": _hex_id(s.get("spanId"), "spanId"),
        "parent_span_id": _hex_id(s.get("parentSpanId"), "parentSpanId") or None,
        "name": s.get("name"),
        "kind": SPAN_KINDS.get(kind, str(kind)) if isinstance(kind, int) else str(kind).removeprefix("SPAN_KIND_").lower(),
        "start_ns": start, "end_ns": end, "duration_s": max(0, end - start) / 1e9,
        "status": STATUS_CODES.get(code, str(code)) if isinstance(code, int) else str(code).removeprefix("STATUS_CODE_").lower(),
        "attributes": _attrs(s.get("attributes")), "resource": resource, "received_at": received_at,
    }


def parse_otlp_json(data: bytes, received_at: float) -> list[dict[str, Any]]:
    doc = _json(data, "OTLP/JSON body")
    if not isinstance(doc, dict):
        raise BadRequest("OTLP/JSON body is not an ExportTraceServiceRequest object")
    out = []
    for rs in doc.get("resourceSpans") or []:
        if not isinstance(rs, dict):
            raise BadRequest("resourceSpans entries must be objects")
        resource = _attrs((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans") or []:
            for s in (ss or {}).get("spans") or []:
                if not isinstance(s, dict):
                    raise BadRequest("spans entries must be objects")
                try:
                    out.append(_span_record(s, resource, received_at))
                except (TypeError, ValueError) as e:
                    raise BadRequest(f"span {s.get('name')!r}: {e}") from None
    return out


def parse_otlp_protobuf(data: bytes, received_at: float) -> list[dict[str, Any]]:
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    try:
        req.ParseFromString(data)
    except DecodeError as e:
        raise BadRequest(f"OTLP/protobuf body does not decode: {e}") from None
    out = []
    for rs in req.resource_spans:
        resource = {kv.key: _any_value(MessageToDict(kv.value)) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append({
                    "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex() or None, "name": s.name,
                    "kind": SPAN_KINDS.get(s.kind, str(s.kind)),
                    "start_ns": s.start_time_unix_nano, "end_ns": s.end_time_unix_nano,
                    "duration_s": max(0, s.end_time_unix_nano - s.start_time_unix_nano) / 1e9,
                    "status": STATUS_CODES.get(s.status.code, str(s.status.code)),
                    "attributes": {kv.key: _any_value(MessageToDict(kv.value)) for kv in s.attributes},
                    "resource": resource, "received_at": received_at,
                })
    return out


# ---------------------------------------------------------------------------- storage
class Store:
    def __init__(self, max_events: int = MAX_EVENTS, max_spans: int = MAX_SPANS) -> None:
        self.lock = threading.Lock()
        self.events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self.spans: deque[dict[str, Any]] = deque(maxlen=max_spans)
        self.stats: dict[str, int] = {"envelopes": 0, "events": 0, "spans": 0, "other_items": 0, "rejected": 0,
                                      "dropped_events": 0, "dropped_spans": 0, "trace_requests": 0}

    def add_events(self, records: list[dict[str, Any]]) -> None:
        with self.lock:
            over = max(0, len(self.events) + len(records) - (self.events.maxlen or 0))
            self.stats["dropped_events"] += over
            self.events.extend(records)
            self.stats["events"] += len(records)

    def add_spans(self, records: list[dict[str, Any]]) -> None:
        with self.lock:
            over = max(0, len(self.spans) + len(records) - (self.spans.maxlen or 0))
            self.stats["dropped_spans"] += over
            self.spans.extend(records)
            self.stats["spans"] += len(records)
            self.stats["trace_requests"] += 1

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.stats[key] += n


# ---------------------------------------------------------------------------- HTTP
def make_handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "moncheck-telemetry"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body, separators=(",", ":"), default=str).encode()
            self.send_response(status)
            self._cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _cors(self) -> None:
            # The browser page (another loopback port) posts envelopes here, as to a real Sentry.
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "*")
            self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self._cors()
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _body(self) -> bytes:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self.close_connection = True
                raise BadRequest(f"Content-Length must be 0..{MAX_BODY}")
            return decode_body(self.rfile.read(length), self.headers.get("Content-Encoding"))

        def do_POST(self) -> None:
            path = urlsplit(self.path).path.rstrip("/")
            try:
                data = self._body()
                now = time.time()
                parts = path.split("/")
                if len(parts) == 4 and parts[1] == "api" and parts[3] == "envelope":
                    self._envelope(data, now)
                elif len(parts) == 4 and parts[1] == "api" and parts[3] == "store":
                    self._store(data, now)
                elif path == "/v1/traces":
                    ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                    if ctype == "application/x-protobuf":
                        store.add_spans(parse_otlp_protobuf(data, now))
                    elif ctype == "application/json":
                        store.add_spans(parse_otlp_json(data, now))
                    else:
                        self._reply(415, {"error": "OTLP/HTTP takes application/x-protobuf or application/json"})
                        return
                    self._reply(200, {"partialSuccess": {}})
                else:
                    self._reply(404, {"error": f"no endpoint {path}"})
            except BadRequest as e:
                store.count("rejected")
                self._reply(400, {"error": str(e)})

        def _envelope(self, data: bytes, now: float) -> None:
            header, items = parse_envelope(data)
            store.count("envelopes")
            events = []
            for item, payload in items:
                if item.get("type") == "event":
                    event = _json(payload, "event item")
                    if isinstance(event, dict):
                        event.setdefault("event_id", header.get("event_id"))
                        events.append(event_record(event, now))
                else:
                    store.count("other_items")
            store.add_events(events)
            self._reply(200, {"id": header.get("event_id")})

        def _store(self, data: bytes, now: float) -> None:
            event = _json(data, "event")
            if not isinstance(event, dict):
                raise BadRequest("event is not an object")
            store.add_events([event_record(event, now)])
            self._reply(200, {"id": event.get("event_id")})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
            with store.lock:
                if path == "/health":
                    body: Any = {"status": "ok"}
                elif path == "/events":
                    body = list(store.events)
                elif path == "/spans":
                    want = query.get("trace_id")
                    body = [s for s in store.spans if not want or s["trace_id"] == want[0]]
                elif path.startswith("/traces/"):
                    tid = path.rsplit("/", 1)[-1].lower()
                    body = [s for s in store.spans if s["trace_id"] == tid]
                elif path == "/stats":
                    body = dict(store.stats)
                else:
                    body = None
            if body is None:
                self._reply(404, {"error": f"no endpoint {path}"})
            else:
                self._reply(200, body)

        def do_DELETE(self) -> None:
            path = urlsplit(self.path).path.rstrip("/") or "/"
            if path not in ("/", "/events", "/spans"):
                self._reply(404, {"error": f"no endpoint {path}"})
                return
            with store.lock:
                if path in ("/", "/events"):
                    store.events.clear()
                if path in ("/", "/spans"):
                    store.spans.clear()
                if path == "/":
                    store.stats = dict.fromkeys(store.stats, 0)
            self._reply(200, {"cleared": path})

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m moncheck.stack.telemetry", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1", help="a loopback address")
    p.add_argument("--port", type=int, required=True, help="0: pick a free one")
    args = p.parse_args(argv)
    if not is_loopback(args.host):
        print(f"moncheck: error: --host {args.host} is not a loopback address", file=sys.stderr)
        return 2
    try:
        server = _Server((args.host, args.port), make_handler(Store()))
    except OSError as e:
        print(f"moncheck: error: cannot listen on {args.host}:{args.port}: {e.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    print(f"moncheck.stack.telemetry: listening port={server.server_address[1]} host={args.host}",
          file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


def dsn(url: str) -> str:
    """The Sentry DSN of a receiver at ``url`` (http://127.0.0.1:P): key ``public``, project 1."""
    return url.replace("http://", "http://public@", 1).rstrip("/") + "/1"


def service_env(url: str) -> dict[str, str]:
    """Environment that points the reference service's SDKs at a receiver at ``url``."""
    return {"SENTRY_DSN": dsn(url), "VITE_SENTRY_DSN": dsn(url), "OTEL_EXPORTER_OTLP_ENDPOINT": url,
            "SENTRY_RELEASE": "moncheck-local"}


if __name__ == "__main__":
    sys.exit(main())
