"""Notification sink: records what Alertmanager sends, with the receiver it was sent to.

The stack points every receiver at the sink (URL scheme):

- Slack ``api_url``        -> ``http://HOST:PORT/slack/<receiver>``
- PagerDuty ``url``        -> ``http://HOST:PORT/pagerduty/<receiver>``  (Events v2 or v1 bodies)
- webhook ``url``          -> ``http://HOST:PORT/webhook/<receiver>``
- email: ``smarthost: HOST:SMTP_PORT``, ``require_tls: false``, ``to: <receiver>@sink.local``
  (or any ``to`` plus a ``X-Receiver: <receiver>`` header in ``headers``).

Each notification becomes one record (``GET /notifications``, newest last; ``DELETE`` clears):
``{id, receiver, integration, received_at, status, alertnames, alerts, path, channel, recipients, body}``.
``alerts`` is ``[{alertname, status}]``. Webhook bodies carry every alert with its own status. Slack,
PagerDuty and email carry only rendered templates, so names and status are parsed from them:
``alertname=<Name>`` / ``alertname = <Name>`` (our templates emit ``alertname=X status=firing``
markers; Alertmanager's default label lists in email bodies and PagerDuty details match too),
``status=firing|resolved``, the default subject/title ``[FIRING:n] ...`` (status; and the name,
as a fallback only, valid when ``alertname`` is the first group_by label), and PagerDuty
``event_action`` (trigger/resolve). When nothing
is parsable the record still has receiver, integration and time, which is what drills assert on.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import re
import signal
import sys
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

INTEGRATIONS = ("slack", "pagerduty", "webhook", "shadow")
# `shadow`: a webhook the stack adds to every receiver (``moncheck.stack.config``). Alertmanager
# hands each integration of a receiver the same alerts in one flush, so the shadow's JSON (labels,
# fingerprint, startsAt, status of every alert) says which alert instances the Slack, PagerDuty
# and email messages of that flush carry: rendered templates alone cannot identify them.
MAX_BODY = 4 << 20
MAX_RECORDS = 10_000
EMAIL_DOMAIN = "sink.local"

_ALERTNAME = re.compile(r"alertname\s*=\s*\"?([A-Za-z_:][A-Za-z0-9_:]*)")
_STATUS = re.compile(r"\bstatus\s*=\s*\"?(firing|resolved)\b")
_SUBJECT = re.compile(r"\[(FIRING|RESOLVED)(?::\d+)?\]\s*([A-Za-z_:][A-Za-z0-9_:]*)?")


# ---------------------------------------------------------------------------- parsing
def _from_text(text: str) -> tuple[str | None, list[str]]:
    """(group status, alert names) found in rendered template text."""
    names = list(dict.fromkeys(_ALERTNAME.findall(text)))
    status = None
    m = _STATUS.search(text)
    if m:
        status = m.group(1)
    subjects = list(_SUBJECT.finditer(text))
    if subjects:
        status = status or subjects[0].group(1).lower()
    if not names:
        # Fallback: the default subject starts with the group labels' values, which is the alert
        # name only when `alertname` is the first group_by label.
        names = list(dict.fromkeys(m.group(2) for m in subjects if m.group(2)))
    return status, names


def _alerts(status: str | None, names: list[str]) -> list[dict[str, Any]]:
    return [{"alertname": n, "status": status} for n in names]


def parse_http(integration: str, body: bytes) -> dict[str, Any]:
    """Status, alert names and useful fields of one HTTP notification body."""
    text = body.decode("utf-8", "replace")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        data = None
    out: dict[str, Any] = {"body": data if data is not None else text}
    if integration in ("webhook", "shadow") and isinstance(data, dict) and isinstance(data.get("alerts"), list):
        alerts = [
            {"alertname": (a.get("labels") or {}).get("alertname"), "status": a.get("status"),
             "labels": a.get("labels") or {}, "annotations": a.get("annotations") or {},
             "fingerprint": a.get("fingerprint"),
             "startsAt": a.get("startsAt"), "endsAt": a.get("endsAt")}
            for a in data["alerts"] if isinstance(a, dict)
        ]
        out.update(status=data.get("status"), alerts=alerts,
                   alertnames=list(dict.fromkeys(a["alertname"] for a in alerts if a["alertname"])))
        return out
    status, names = _from_text(text)
    if integration == "pagerduty" and isinstance(data, dict):
        action = data.get("event_action") or data.get("event_type")  # Events v2 / v1
        status = {"trigger": "firing", "resolve": "resolved"}.get(str(action), status)
    if integration == "slack" and isinstance(data, dict):
        out["channel"] = data.get("channel")
    out.update(status=status, alertnames=names, alerts=_alerts(status, names))
    return out


def parse_email(raw: bytes, envelope_to: list[str]) -> dict[str, Any]:
    """Receiver, recipients, status and alert names of one SMTP message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    parts: list[str] = [str(msg.get("Subject", ""))]
    by_type: dict[str, str] = {}
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            try:
                content = str(part.get_content())
            except (LookupError, ValueError):
                payload = part.get_payload(decode=True)
                content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
            parts.append(content)
            by_type.setdefault(part.get_content_type(), content[:65536])
    text = "\n".join(parts)
    status, names = _from_text(text)
    to_header = [a.addr_spec for a in getattr(msg.get("To"), "addresses", ())] if msg.get("To") else []
    recipients = list(dict.fromkeys(to_header + envelope_to))
    receiver = str(msg.get("X-Receiver", "")).strip() or None
    if receiver is None:
        local = [r.split("@", 1)[0] for r in recipients if r.lower().endswith("@" + EMAIL_DOMAIN)]
        receiver = local[0] if local else (recipients[0] if recipients else "unknown")
    return {
        "receiver": receiver,
        "recipients": recipients,
        "subject": str(msg.get("Subject", "")),
        "parts": by_type,  # text/plain and text/html, as a person's mail client shows them
        "status": status,
        "alertnames": names,
        "alerts": _alerts(status, names),
        "body": text[:65536],
    }


# ---------------------------------------------------------------------------- store
class Store:
    """Thread-safe list of records, optionally appended to a JSON-lines file."""

    def __init__(self, out: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._next = 1
        self._out: TextIO | None = open(out, "a", encoding="utf-8") if out else None

    def add(self, integration: str, receiver: str, path: str, parsed: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = {"id": self._next, "receiver": receiver, "integration": integration,
                      "received_at": time.time(), "path": path, "status": None, "alertnames": [],
                      "alerts": [], **parsed}  # email parsing supplies its own receiver
            self._next += 1
            self._records.append(record)
            del self._records[:-MAX_RECORDS]
            if self._out:
                self._out.write(json.dumps(record, default=str) + "\n")
                self._out.flush()
            return record

    def list(self, **filters: str) -> list[dict[str, Any]]:
        since = float(filters.pop("since", 0) or 0)
        with self._lock:
            records = list(self._records)
        out = []
        for r in records:
            if r["received_at"] < since:
                continue
            if any(v and (v not in r["alertnames"] if k == "alertname" else str(r.get(k)) != v)
                   for k, v in filters.items()):
                continue
            out.append(r)
        return out

    def clear(self) -> int:
        with self._lock:
            n = len(self._records)
            self._records.clear()
            return n

    def close(self) -> None:
        with self._lock:
            if self._out:
                self._out.close()
                self._out = None


# ---------------------------------------------------------------------------- HTTP
def _handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class SinkHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path in ("/healthz", "/-/ready"):
                self._reply(200, {"status": "ok"})
            elif url.path == "/notifications":
                q = {k: v[-1] for k, v in parse_qs(url.query).items()
                     if k in ("receiver", "integration", "alertname", "status", "since")}
                try:
                    self._reply(200, store.list(**q))
                except ValueError:
                    self._reply(400, {"error": "since must be unix seconds"})
            else:
                self._reply(404, {"error": "GET /notifications"})

        def do_DELETE(self) -> None:
            if urlsplit(self.path).path == "/notifications":
                self._reply(200, {"cleared": store.clear()})
            else:
                self._reply(404, {"error": "DELETE /notifications"})

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self.close_connection = True
                self._reply(413, {"error": "bad Content-Length"})
                return
            body = self.rfile.read(length)
            path = urlsplit(self.path).path
            segments = [unquote(s) for s in path.strip("/").split("/", 1)]
            integration = segments[0] if segments[0] in INTEGRATIONS else "unknown"
            receiver = segments[1] if len(segments) == 2 and segments[1] else "unknown"
            parsed = parse_http(integration, body)
            store.add(integration, receiver, path, parsed)
            if integration == "unknown" or receiver == "unknown":
                # Recorded for debugging, but refused so a misrouted receiver shows up as a
                # failed notification in Alertmanager too.
                self._reply(404, {"error": "post to /slack|pagerduty|webhook/<receiver>"})
            elif integration == "pagerduty":
                self._reply(202, {"status": "success", "message": "Event processed",
                                  "dedup_key": (parsed.get("body") or {}).get("dedup_key")
                                  if isinstance(parsed.get("body"), dict) else None})
            elif integration == "slack":
                # Alertmanager >= 0.28 parses a JSON reply as Slack's API answer ({"ok": ...});
                # a bare "ok" string there is a failed notification.
                self._reply(200, {"ok": True})
            else:
                self._reply(200, {"status": "ok"})

    return SinkHandler


# ---------------------------------------------------------------------------- SMTP
class _SMTPSession:
    """One SMTP conversation: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. No TLS, no AUTH."""

    def __init__(self, store: Store, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.store, self.reader, self.writer = store, reader, writer
        self.rcpt: list[str] = []
        self.mail_from: str | None = None

    async def send(self, line: str) -> None:
        self.writer.write((line + "\r\n").encode())
        await self.writer.drain()

    async def run(self) -> None:
        await self.send("220 sink.local ESMTP moncheck-sink")
        while True:
            raw = await self.reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                await self.send("250-sink.local")
                await self.send("250-8BITMIME")
                await self.send(f"250 SIZE {MAX_BODY}")
            elif verb == "HELO":
                await self.send("250 sink.local")
            elif verb == "MAIL":
                self.mail_from, self.rcpt = _address(arg), []
                await self.send("250 OK")
            elif verb == "RCPT":
                if self.mail_from is None:
                    await self.send("503 MAIL first")
                else:
                    self.rcpt.append(_address(arg))
                    await self.send("250 OK")
            elif verb == "DATA":
                if not self.rcpt:
                    await self.send("503 RCPT first")
                    continue
                await self.send("354 End data with <CR><LF>.<CR><LF>")
                data = await self._data()
                if data is None:
                    return
                parsed = parse_email(data, self.rcpt)
                self.store.add("email", parsed["receiver"], "smtp", parsed)
                self.mail_from, self.rcpt = None, []
                await self.send("250 OK queued")
            elif verb == "RSET":
                self.mail_from, self.rcpt = None, []
                await self.send("250 OK")
            elif verb == "NOOP":
                await self.send("250 OK")
            elif verb == "VRFY":
                await self.send("252 cannot verify")
            elif verb == "QUIT":
                await self.send("221 Bye")
                return
            else:  # STARTTLS and AUTH included: not offered in EHLO, so clients do not try them
                await self.send("502 Command not implemented")

    async def _data(self) -> bytes | None:
        lines: list[bytes] = []
        size = 0
        while True:
            raw = await self.reader.readline()
            if not raw:
                return None
            if raw in (b".\r\n", b".\n"):
                return b"".join(lines)
            if raw.startswith(b".."):
                raw = raw[1:]  # dot-unstuffing (RFC 5321 4.5.2)
            size += len(raw)
            if size <= MAX_BODY:
                lines.append(raw)


def _address(arg: str) -> str:
    m = re.search(r"<([^>]*)>", arg)
    return (m.group(1) if m else arg.split(":", 1)[-1]).strip()


class _SMTPServer:
    def __init__(self, store: Store, host: str, port: int) -> None:
        self.store, self.host, self.port = store, host, port
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="sink-smtp", daemon=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(_SMTPSession(self.store, reader, writer).run(), timeout=300)
        except (TimeoutError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    def start(self) -> int:
        self._server = self.loop.run_until_complete(
            asyncio.start_server(self._client, self.host, self.port, limit=MAX_BODY))
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread.start()
        return self.port

    def stop(self) -> None:
        async def close() -> None:
            if self._server:
                self._server.close()
                await self._server.wait_closed()
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        self.loop.close()


# ---------------------------------------------------------------------------- the sink
class Sink:
    """HTTP (and optionally SMTP) sink; port 0 picks a free port, read it back after ``start()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, smtp_port: int | None = None,
                 out: Path | None = None) -> None:
        self.store = Store(out)
        self.host = host
        self._http = ThreadingHTTPServer((host, port), _handler(self.store))
        self._http.daemon_threads = True
        self.port: int = self._http.server_address[1]
        self._smtp = _SMTPServer(self.store, host, smtp_port) if smtp_port is not None else None
        self.smtp_port: int | None = None
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="sink-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._smtp:
            try:
                self.smtp_port = self._smtp.start()
            except OSError:
                self._http.server_close()
                self.store.close()
                raise
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._http.shutdown()
        self._http.server_close()
        if self._smtp:
            self._smtp.stop()
        self.store.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m moncheck.stack.sink", description="Notification sink.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--smtp-port", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="also append every record to this JSON-lines file")
    args = p.parse_args(argv)
    try:
        sink = Sink(args.host, args.port, args.smtp_port, args.out).start()
    except OSError as e:
        where = e.filename or f"{args.host} ports {args.port}/{args.smtp_port}"
        print(f"moncheck: error: sink cannot start: {where}: {e.strerror or e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"moncheck.sink: listening port={sink.port} smtp_port={sink.smtp_port} host={args.host}",
          file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
