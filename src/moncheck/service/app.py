"""Routes of the reference service: the seed's pages, API, health and analytics endpoints.

Handlers return ``Response``; the HTTP layer (server.py) times them, records the HTTP metrics by
ROUTE TEMPLATE and writes the request log.
"""

from __future__ import annotations

import json
import re
import struct
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

from .analytics import SCHEMAS, Analytics, InvalidBody
from .db import Database
from .health import Health
from .metrics import ServiceMetrics

STATIC = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8"}
USER_TYPES = frozenset({"anonymous", "free", "premium", "enterprise", "admin"})
UNMATCHED = "unmatched"


@dataclass
class Request:
    method: str
    path: str
    route: str
    params: dict[str, str]
    headers: Any
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InvalidBody("", f"body is not valid JSON: {e}") from None

    @property
    def user_type(self) -> str:
        value = self.headers.get("X-User-Type", "anonymous")
        return value if value in USER_TYPES else "anonymous"


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON, str -> HTML, bytes -> as is
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    regex: re.Pattern[str]


def _page(title: str) -> Response:
    html = f"<!doctype html><html><head><title>{title} - GoCarbonTracker</title></head><body><h1>{title}</h1></body></html>"
    return Response(200, html, "text/html; charset=utf-8")


def _png(width: int, height: int) -> bytes:
    """The page's hero image, made here (nothing to download or commit): seeded noise, because
    Chromium does not count low-entropy images (a solid fill) as LCP candidates."""
    import random

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rnd = random.Random(14)
    raw = b"".join(b"\x00" + rnd.randbytes(width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


class App:
    def __init__(self, metrics: ServiceMetrics, db: Database, health: Health, analytics: Analytics,
                 page_config: dict[str, Any] | None = None) -> None:
        self.metrics, self.db, self.health, self.analytics = metrics, db, health, analytics
        # The frontend's settings (DSN, environment, filters), embedded in the dashboard page.
        self.page_config = page_config or {}
        self._hero = _png(240, 120)  # ~86 KB, shown at 1200x600
        self.routes: list[Route] = []
        add = self._add
        add("GET", "/", lambda r: _page("GoCarbonTracker"))
        add("GET", "/dashboard", self.dashboard)
        add("GET", "/health", self.health_endpoint)
        add("GET", "/metrics", self.metrics_endpoint)
        add("GET", "/api/companies", self.list_companies)
        add("GET", "/api/companies/:id", self.get_company)
        add("PUT", "/api/companies/:id", self.update_company)
        add("GET", "/api/companies/:id/emissions", self.company_emissions)
        add("POST", "/api/emissions", self.create_emission)
        add("DELETE", "/api/emissions/:id", self.delete_emission)
        add("POST", "/api/emissions/import", self.import_emissions)
        add("GET", "/api/emission-factors", self.emission_factors)
        add("GET", "/api/reports", self.list_reports)
        add("POST", "/api/reports", self.create_report)
        add("GET", "/api/reports/:id/export", self.export_report)
        add("GET", "/api/targets", self.list_targets)
        add("POST", "/api/targets", self.upsert_target)
        add("GET", "/api/analytics/summary", self.analytics_summary)
        add("GET", "/api/settings", self.settings)
        add("POST", "/api/auth/login", self.login)
        add("POST", "/api/auth/logout", self.logout)
        add("GET", "/static/:file", self.static_file)
        add("GET", "/static/vendor/:file", self.static_file)
        add("GET", "/images/:file", self.image)
        for route in SCHEMAS:
            add("POST", route, self.analytics_endpoint)

    def _add(self, method: str, template: str, handler: Handler) -> None:
        pattern = "^" + re.sub(r":[a-z_]+", lambda m: f"(?P<{m.group(0)[1:]}>[^/]+)", template) + "$"
        self.routes.append(Route(method, template, handler, re.compile(pattern)))

    @property
    def templates(self) -> set[str]:
        return {r.template for r in self.routes}

    def resolve(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        """(route template, handler or None for 405, params); unknown paths -> ('unmatched', None)."""
        if len(path) > 1:
            path = path.rstrip("/")
        template = None
        for route in self.routes:
            m = route.regex.match(path)
            if m:
                template = route.template
                if route.method == method or (method == "HEAD" and route.method == "GET"):
                    return route.template, route.handler, m.groupdict()
        return (template or UNMATCHED), None, {}

    # ------------------------------------------------------------------ business metrics
    def _track(self, req: Request, action: str, feature: str) -> None:
        # The seed labels user_actions_total with user_id; that label is dropped (unbounded).
        self.metrics["user_actions_total"].labels(action_type=action, feature=feature).inc()
        self.metrics["feature_usage_total"].labels(feature_name=feature, user_type=req.user_type).inc()

    # ------------------------------------------------------------------ handlers
    def dashboard(self, req: Request) -> Response:
        """The seed's frontend on a real page: web-vitals, the frontend logger, Sentry (see static/)."""
        self._track(req, "view", "dashboard")
        try:
            html = (STATIC / "app.html").read_text(encoding="utf-8")
        except OSError:
            return _page("Dashboard")
        config = json.dumps(self.page_config).replace("<", "\\u003c")
        # One image URL per page view: Chromium serialises concurrent loads of one URL (its cache
        # lock), so several pages in a drill would wait for each other's delayed image.
        html = html.replace('src="/images/hero.png"', f'src="/images/hero.png?v={uuid.uuid4().hex}"')
        return Response(200, html.replace("__CONFIG__", config), "text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})

    def static_file(self, req: Request) -> Response:
        name = req.params["file"]
        folder = STATIC / "vendor" if req.route.startswith("/static/vendor/") else STATIC
        path = folder / name
        if "/" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES or not path.is_file():
            return Response(404, {"error": f"no static file {name}"})
        return Response(200, path.read_bytes(), _STATIC_TYPES[path.suffix], headers={"Cache-Control": "no-store"})

    def image(self, req: Request) -> Response:
        if req.params["file"] != "hero.png":
            return Response(404, {"error": "no such image"})
        return Response(200, self._hero, "image/png", headers={"Cache-Control": "no-store"})

    def health_endpoint(self, req: Request) -> Response:
        report = self.health.check()
        return Response(503 if report["status"] == "unhealthy" else 200, report,
                        headers={"Cache-Control": "no-store"})

    def metrics_endpoint(self, req: Request) -> Response:
        # Keep health_check_status current without /health traffic; the value exposed is the
        # last completed check (at most one scrape interval old).
        self.health.refresh_async()
        if "application/openmetrics-text" in (req.headers.get("Accept") or ""):
            # Prometheus asks for OpenMetrics first; exemplars (trace ids) exist only there.
            from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST
            return Response(200, self.metrics.exposition(openmetrics=True), CONTENT_TYPE_LATEST)
        return Response(200, self.metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8")

    def list_companies(self, req: Request) -> Response:
        rows = self.db.query("SELECT", "companies", lambda t: list(t.values()))
        self._track(req, "view", "companies")
        return Response(200, rows)

    def get_company(self, req: Request) -> Response:
        row = self.db.query("SELECT", "companies", lambda t: t.get(req.params["id"]))
        self._track(req, "view", "companies")
        return Response(200, row) if row else Response(404, {"error": "company not found"})

    def update_company(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise InvalidBody("name", "'name' (string) is required")
        cid = req.params["id"]

        def update(t: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
            if cid in t:
                t[cid] = {**t[cid], "name": body["name"]}
            return t.get(cid)

        row = self.db.query("UPDATE", "companies", update)
        self._track(req, "update", "companies")
        return Response(200, row) if row else Response(404, {"error": "company not found"})

    def company_emissions(self, req: Request) -> Response:
        cid = req.params["id"]
        rows = self.db.query("SELECT", "emissions", lambda t: [r for r in t.values() if r["company_id"] == cid][:100])
        self._track(req, "view", "emissions")
        return Response(200, {"company_id": cid, "emissions": rows})

    def _emission(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise InvalidBody("", "body must be a JSON object")
        if not isinstance(body.get("company_id"), str):
            raise InvalidBody("company_id", "'company_id' (string) is required")
        kg = body.get("kg_co2e")
        if isinstance(kg, bool) or not isinstance(kg, (int, float)) or kg < 0:
            raise InvalidBody("kg_co2e", "'kg_co2e' (number >= 0) is required")
        return {"company_id": body["company_id"], "kg_co2e": kg}

    def create_emission(self, req: Request) -> Response:
        row = {"id": self.db.new_id(), **self._emission(req.json())}

        def insert(t: dict[str, dict[str, Any]]) -> None:
            if len(t) >= 10_000:  # bounded: a long load run must not grow the process
                t.pop(next(iter(t)))
            t[row["id"]] = row

        self.db.query("INSERT", "emissions", insert)
        self._track(req, "create", "emissions")
        return Response(201, row)

    def delete_emission(self, req: Request) -> Response:
        found = self.db.query("DELETE", "emissions", lambda t: t.pop(req.params["id"], None))
        self._track(req, "delete", "emissions")
        return Response(204) if found else Response(404, {"error": "emission not found"})

    def import_emissions(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("emissions"), list):
            raise InvalidBody("emissions", "'emissions' (list) is required")
        rows = [{"id": self.db.new_id(), **self._emission(e)} for e in body["emissions"][:1000]]

        def insert(t: dict[str, dict[str, Any]]) -> None:
            for row in rows:
                if len(t) >= 10_000:
                    t.pop(next(iter(t)))
                t[row["id"]] = row

        self.db.query("INSERT", "emissions", insert)
        self._track(req, "import", "emissions")
        return Response(201, {"imported": len(rows)})

    def emission_factors(self, req: Request) -> Response:
        rows = self.db.query("SELECT", "emission_factors", lambda t: list(t.values()))
        self._track(req, "view", "emissions")
        return Response(200, rows)

    def list_reports(self, req: Request) -> Response:
        rows = self.db.query("SELECT", "reports", lambda t: list(t.values())[:100])
        self._track(req, "view", "reports")
        return Response(200, rows)

    def create_report(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("title"), str):
            raise InvalidBody("title", "'title' (string) is required")
        row = {"id": self.db.new_id(), "title": body["title"][:200]}

        def insert(t: dict[str, dict[str, Any]]) -> None:
            if len(t) >= 1000:
                t.pop(next(iter(t)))
            t[row["id"]] = row

        self.db.query("INSERT", "reports", insert)
        self._track(req, "create", "reports")
        return Response(201, row)

    def export_report(self, req: Request) -> Response:
        row = self.db.query("SELECT", "reports", lambda t: t.get(req.params["id"]))
        self._track(req, "export", "reports")
        if not row:
            return Response(404, {"error": "report not found"})
        return Response(200, f"id,title\n{row['id']},{row['title']}\n", "text/csv; charset=utf-8")

    def list_targets(self, req: Request) -> Response:
        rows = self.db.query("SELECT", "targets", lambda t: list(t.values()))
        self._track(req, "view", "targets")
        return Response(200, rows)

    def upsert_target(self, req: Request) -> Response:
        body = req.json()
        pct = body.get("reduction_percent") if isinstance(body, dict) else None
        if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100:
            raise InvalidBody("reduction_percent", "'reduction_percent' (number 0..100) is required")
        company = str(body.get("company_id", "1"))
        row = {"id": company, "company_id": company, "reduction_percent": pct}
        self.db.query("UPSERT", "targets", lambda t: t.__setitem__(company, row) if len(t) < 1000 else None)
        self._track(req, "update", "targets")
        return Response(200, row)

    def analytics_summary(self, req: Request) -> Response:
        total = self.db.query("RPC", "emissions", lambda t: sum(r["kg_co2e"] for r in t.values()))
        self._track(req, "view", "analytics")
        return Response(200, {"total_kg_co2e": total})

    def settings(self, req: Request) -> Response:
        self.db.query("SELECT", "users", lambda t: None)
        self._track(req, "view", "settings")
        return Response(200, {"theme": "light"})

    def login(self, req: Request) -> Response:
        self.db.query("SELECT", "users", lambda t: None)
        self._track(req, "login", "dashboard")
        return Response(200, {"session": "started"})

    def logout(self, req: Request) -> Response:
        body = req.json() if req.body else {}
        seconds = body.get("session_seconds", 0) if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 86400:
            raise InvalidBody("session_seconds", "'session_seconds' must be a number 0..86400")
        self.metrics["user_session_duration_seconds"].labels(user_type=req.user_type).observe(seconds)
        self._track(req, "logout", "dashboard")
        return Response(200, {"session": "ended"})

    def analytics_endpoint(self, req: Request) -> Response:
        return Response(202, self.analytics.handle(req.route, req.json()))
