"""Browser analytics endpoints: JSON Schema validation, then bounded-cardinality metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from .catalog import CatalogError
from .metrics import ServiceMetrics

# route -> schema file (policies/schemas/<name>.schema.json)
SCHEMAS = {
    "/api/analytics/web-vitals": "analytics-web-vitals",
    "/api/analytics/page-performance": "analytics-page-performance",
    "/api/analytics/slow-render": "analytics-slow-render",
    "/api/logs": "analytics-logs",
}

# The frontend's page routes; anything else is 'other' so a crawler cannot mint series.
PAGE_TEMPLATES = frozenset(
    {"/", "/dashboard", "/companies", "/companies/:id", "/emissions", "/emissions/:id",
     "/reports", "/reports/:id", "/targets", "/analytics", "/settings", "/login", "/signup"}
)
# Profiler ids of the monitored React components.
COMPONENTS = frozenset(
    {"App", "Dashboard", "EmissionsChart", "EmissionsTable", "CompanyList", "CompanyDetail",
     "ReportBuilder", "ReportViewer", "TargetTracker", "Navigation", "Settings"}
)
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F-]{8,}|[0-9a-fA-F]{24})$")
_TIMING_VITALS = {"FCP", "FID", "INP", "LCP", "TTFB"}


class InvalidBody(Exception):
    """A request body that fails its schema; ``field`` is a dotted path ('' for the body)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def page_template(page: str) -> str:
    """Map a pathname, URL or page name to a bounded template set ('other' when unknown)."""
    path = re.sub(r"^[a-z]+://[^/]+", "", page.strip()).split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path  # trackPageLoad() sends a page name such as 'dashboard'
    parts = [p for p in path.split("/") if p]
    parts = [":id" if _ID_SEGMENT.match(p) else p.lower() for p in parts]
    template = "/" + "/".join(parts)
    return template if template in PAGE_TEMPLATES else "other"


def _field_of(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in list(error.validator_value) if k not in error.instance]  # type: ignore[arg-type]
        path += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        path += extra[:1]
    return ".".join(path)


class Analytics:
    def __init__(self, metrics: ServiceMetrics, schema_dir: Path) -> None:
        self.metrics = metrics
        self.validators: dict[str, jsonschema.protocols.Validator] = {}
        for route, name in SCHEMAS.items():
            path = schema_dir / f"{name}.schema.json"
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
                cls = jsonschema.validators.validator_for(schema)
                cls.check_schema(schema)
            except FileNotFoundError:
                raise CatalogError(f"{path}:1: schema file not found") from None
            except json.JSONDecodeError as e:
                raise CatalogError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
            except jsonschema.SchemaError as e:
                raise CatalogError(f"{path}:1: invalid JSON Schema: {e.message}") from None
            self.validators[route] = cls(schema)

    def validate(self, route: str, body: Any) -> None:
        error = jsonschema.exceptions.best_match(self.validators[route].iter_errors(body))
        if error is not None:
            raise InvalidBody(_field_of(error), error.message)

    def handle(self, route: str, body: Any) -> dict[str, Any]:
        """Validate and record one analytics body; returns the JSON response."""
        self.validate(route, body)
        m = self.metrics
        if route == "/api/analytics/web-vitals":
            page = page_template(body["page"])
            name = body["metric"]
            value = body["value"] / 1000 if name in _TIMING_VITALS else body["value"]
            m["web_vitals_reports_total"].labels(metric=name, rating=body["rating"], page_template=page).inc()
            m["web_vitals_value"].labels(metric=name, page_template=page).observe(value)
            return {"recorded": 1, "page_template": page}
        if route == "/api/analytics/page-performance":
            page = page_template(body["page"])
            hist = m["page_load_duration_seconds"]
            for phase, key in (("first_byte", "firstByte"), ("dom_content_loaded", "domContentLoaded"),
                               ("load_complete", "loadComplete")):
                hist.labels(phase=phase, page_template=page).observe(body[key] / 1000)
            return {"recorded": 3, "page_template": page}
        if route == "/api/analytics/slow-render":
            comp = body["componentId"] if body["componentId"] in COMPONENTS else "other"
            m["slow_renders_total"].labels(component=comp, phase=body["phase"]).inc()
            return {"recorded": 1, "component": comp}
        counter = m["frontend_log_entries_total"]
        for entry in body["logs"]:
            counter.labels(level=entry["level"]).inc()
        return {"recorded": len(body["logs"])}
