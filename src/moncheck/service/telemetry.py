"""Error tracking (sentry-sdk) and tracing (OpenTelemetry SDK, OTLP/HTTP) of the reference service.

Both are configured from the repository's data, never by hand: ``monitoring/errors/errors.yml``
gives the environments, the sample rate and the filters (``make_before_send`` turns them into
Sentry's ``before_send``), ``monitoring/tracing/tracing.yml`` the service name, the sampler and the
span attributes. The DSN and the OTLP endpoint come from the environment variables those files
name; without them the SDK still runs (trace ids for logs and exemplars) but exports nothing.

One tracer decides sampling (OpenTelemetry); error events carry its trace and span ids in
``contexts.trace`` so an event, its trace, its log lines and the latency exemplar share one key.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import sentry_sdk
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sentry_sdk.utils import event_from_exception

from moncheck.telemetry.spec import ErrorsPolicy, TracingPolicy

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PROPAGATOR = TraceContextTextMapPropagator()

class InjectedError(RuntimeError):
    """The fault control's ``exception_ratio``: a real exception raised inside a handler."""


Event = dict[str, Any]
Hint = dict[str, Any]


def make_before_send(policy: ErrorsPolicy, environment: str) -> Callable[[Event, Hint], Event | None]:
    """Sentry's ``before_send`` from the policy's filters.

    Drops events of environments that do not send (``send: false`` or a filter's
    ``environments``) and events whose *raised* exception (Sentry lists the chain cause first, so
    the last value), or any class it derives from, is one of a filter's ``exception_types``.
    """
    dropped_envs = policy.dropped_environments
    dropped_types = policy.dropped_types

    def before_send(event: Event, hint: Hint) -> Event | None:
        if str(event.get("environment") or environment) in dropped_envs:
            return None
        exc_info = hint.get("exc_info") if isinstance(hint, dict) else None
        if exc_info and exc_info[0] is not None:
            if any(cls.__name__ in dropped_types for cls in exc_info[0].__mro__):
                return None
        else:
            values = ((event.get("exception") or {}).get("values")) or []
            if values and values[-1].get("type") in dropped_types:
                return None
        return event

    return before_send


def _sampler(policy: TracingPolicy) -> Sampler:
    if policy.sampler == "always_on":
        return ALWAYS_ON
    if policy.sampler == "always_off":
        return ALWAYS_OFF
    ratio = TraceIdRatioBased(policy.ratio)
    return ParentBased(ratio) if policy.sampler == "parentbased_traceidratio" else ratio


def otlp_headers(raw: str | None) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS`` form: ``k=v,k2=v2``."""
    out: dict[str, str] = {}
    for part in (raw or "").split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@dataclass
class RequestContext:
    """The active request: its span, ids and the attributes set on the span when it ends."""

    span: Any
    route: str
    request_id: str
    trace_id: str
    span_id: str
    sampled: bool
    attributes: dict[str, Any] = field(default_factory=dict)

    def log_fields(self) -> dict[str, str]:
        return {"trace_id": self.trace_id, "span_id": self.span_id, "request_id": self.request_id}


_CURRENT: ContextVar[RequestContext | None] = ContextVar("moncheck_service_request", default=None)


def current_log_fields() -> dict[str, str]:
    """trace_id, span_id, request_id of the request being handled on this thread ({} outside one)."""
    req = _CURRENT.get()
    return req.log_fields() if req is not None else {}


class Telemetry:
    """The service's tracer and error client, built from the policies and the environment."""

    def __init__(self, errors: ErrorsPolicy, tracing: TracingPolicy, environment: str,
                 env: Mapping[str, str] | None = None, schedule_delay_ms: int = 500, enabled: bool = True) -> None:
        """``enabled=False``: no SDK at all (a no-op tracer, no error client), for the overhead bench."""
        env = os.environ if env is None else env
        self.env = env
        if environment not in errors.environments:
            raise ValueError(f"{errors.path}:{errors.line_of('environments')}: environment {environment!r} is not "
                             f"declared (declared: {', '.join(sorted(errors.environments))})")
        self.errors, self.tracing, self.environment = errors, tracing, environment
        self.release = env.get(errors.release_env) or "unknown"
        self.dsn = env.get(errors.dsn_env) or None
        endpoint = env.get(tracing.endpoint_env) or None
        self.traces_url = endpoint.rstrip("/") + "/v1/traces" if endpoint else None
        resource = Resource.create({"service.name": tracing.service_name, "service.version": self.release,
                                    "deployment.environment.name": environment})
        self.provider = TracerProvider(resource=resource, sampler=_sampler(tracing))
        self.tracer: Any = self.provider.get_tracer("moncheck.service") if enabled else trace.NoOpTracer()
        self.sentry = False
        if not enabled:
            return
        if self.traces_url:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            exporter = OTLPSpanExporter(endpoint=self.traces_url, headers=otlp_headers(env.get(tracing.headers_env or "")),
                                        timeout=5)
            self.provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=schedule_delay_ms))
        if self.dsn:
            sentry_sdk.init(
                dsn=self.dsn, environment=environment, release=self.release,
                sample_rate=errors.sample_errors,
                traces_sample_rate=None,  # one tracer: OpenTelemetry samples traces (telemetry/sample-rate)
                before_send=make_before_send(errors, environment),  # type: ignore[arg-type]
                default_integrations=False, auto_enabling_integrations=False,
                send_client_reports=False, send_default_pii=False, shutdown_timeout=2,
            )
            self.sentry = True

    @contextlib.contextmanager
    def request(self, method: str, route: str, path: str, headers: Any) -> Iterator[RequestContext]:
        """The server span of one request (parent from ``traceparent``), current while the block runs."""
        parent = _PROPAGATOR.extract({k.lower(): v for k, v in headers.items()}) if headers else None
        rid = headers.get("X-Request-Id") if headers else None
        rid = rid if isinstance(rid, str) and REQUEST_ID.match(rid) else uuid.uuid4().hex
        span = self.tracer.start_span(f"{method} {route}", context=parent, kind=trace.SpanKind.SERVER,
                                      attributes={"http.request.method": method, "http.route": route,
                                                  "url.path": path, "request.id": rid})
        sc = span.get_span_context()
        ctx = RequestContext(span, route, rid, format(sc.trace_id, "032x"), format(sc.span_id, "016x"), sc.trace_flags.sampled)
        token = otel_context.attach(trace.set_span_in_context(span))
        current = _CURRENT.set(ctx)
        try:
            yield ctx
        finally:
            _CURRENT.reset(current)
            otel_context.detach(token)
            status = ctx.attributes.get("http.response.status_code")
            span.set_attributes(ctx.attributes)
            if isinstance(status, int) and status >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            span.end()

    def capture(self, exc: BaseException, req: RequestContext | None) -> str | None:
        """Send ``exc`` as an unhandled error event (filtered by ``before_send``); its event id or None."""
        if not self.sentry:
            return None
        client = sentry_sdk.get_client()
        event, hint = event_from_exception(exc, client_options=client.options,
                                           mechanism={"type": "moncheck.service", "handled": False})
        with sentry_sdk.new_scope() as scope:
            if req is not None:
                # The OpenTelemetry ids, not Sentry's own: the event points at the stored trace.
                scope.set_context("trace", {"trace_id": req.trace_id, "span_id": req.span_id, "op": "http.server"})
                scope.set_tag("request_id", req.request_id)
                scope.set_tag("http.route", req.route)
            return sentry_sdk.capture_event(event, hint=hint)

    def page_config(self) -> dict[str, Any]:
        """What the browser page needs to apply the same policy (frontend DSN, filters, sample rate)."""
        dsn = self.env.get(self.errors.frontend_dsn_env) if self.errors.frontend_dsn_env else None
        return {"dsn": dsn or None, "environment": self.environment, "release": self.release,
                "errorSampleRate": self.errors.sample_errors,
                "dropEnvironments": sorted(self.errors.dropped_environments),
                "dropExceptionTypes": sorted(self.errors.dropped_types)}

    def shutdown(self) -> None:
        if self.sentry:
            sentry_sdk.flush(timeout=2)
        self.provider.shutdown()
