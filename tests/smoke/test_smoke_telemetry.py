"""Error tracking, tracing and logs of the target environment (``pytest -m smoke``).

Deployed environments: the DSN and the OTLP endpoint (and its headers) come from the environment
variables named in ``monitoring/errors/errors.yml`` and ``monitoring/tracing/tracing.yml``; logs are
searched where the environment exposes them (``MONCHECK_LOGS_URL``, an Elasticsearch ``_search``
URL, with ``MONCHECK_LOGS_AUTH`` as its Authorization header). The local environment uses the
stack's telemetry receiver and the service's log file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import pytest

from moncheck.smoke.retry import SmokeFailure
from moncheck.telemetry import smoke
from moncheck.telemetry.spec import ErrorsPolicy, TracingPolicy, load_errors, load_tracing


@pytest.fixture(scope="module")
def policies(smoke_run: Any) -> tuple[ErrorsPolicy, TracingPolicy]:
    return (load_errors(smoke_run.repo / "monitoring/errors/errors.yml"),
            load_tracing(smoke_run.repo / "monitoring/tracing/tracing.yml"))


@pytest.fixture(scope="module")
def local_stack(smoke_run: Any, request: pytest.FixtureRequest) -> Any:
    """The session's local stack when the smoke run uses it (local, no URL given), else None."""
    target = smoke_run.target
    return request.getfixturevalue("stack") if target.environment == "local" and not target.explicit_urls else None


@pytest.fixture(scope="module")
def environ(local_stack: Any) -> Mapping[str, str]:
    if local_stack is None:
        return os.environ
    from moncheck.stack.telemetry import service_env
    return {**os.environ, **service_env(local_stack.telemetry_url)}


def test_error_tracking_configured_and_reachable(policies: Any, environ: Mapping[str, str], smoke_run: Any) -> None:
    errors, _ = policies
    raw = environ.get(errors.dsn_env)
    if not raw:
        raise SmokeFailure("error tracking configured", f"${errors.dsn_env}",
                           f"not set for environment {smoke_run.target.environment!r}")
    try:
        dsn = smoke.parse_dsn(raw)
    except ValueError as e:
        raise SmokeFailure("error tracking configured", f"${errors.dsn_env}", str(e)) from None
    status = smoke.probe_error_tracking(dsn)
    if status != 200:
        raise SmokeFailure("error tracking accepts an envelope", dsn.envelope_url, f"HTTP {status}")


def test_tracing_endpoint_configured_and_reachable(policies: Any, environ: Mapping[str, str], smoke_run: Any) -> None:
    _, tracing = policies
    endpoint = environ.get(tracing.endpoint_env)
    if not endpoint:
        raise SmokeFailure("tracing configured", f"${tracing.endpoint_env}",
                           f"not set for environment {smoke_run.target.environment!r}")
    headers = smoke.otlp_headers(environ.get(tracing.headers_env or ""))
    status = smoke.probe_tracing(endpoint, headers)
    if status != 200:
        raise SmokeFailure("tracing endpoint accepts an OTLP export", endpoint.rstrip("/") + "/v1/traces", f"HTTP {status}")


def test_synthetic_request_trace_id_is_in_its_log_line(smoke_target: Any, local_stack: Any) -> None:
    logs_url = os.environ.get("MONCHECK_LOGS_URL")
    if local_stack is None and not logs_url:
        pytest.skip("the environment exposes no logs to this run (set MONCHECK_LOGS_URL to its _search URL)")
    trace_id, request_id = smoke.synthetic_request(smoke_target.url("service_url"))
    deadline = time.monotonic() + (5 if local_stack is not None else 60)  # log shipping takes a while
    lines: list[dict[str, Any]] = []
    where = logs_url or "service.log of the local stack"
    while not lines and time.monotonic() < deadline:
        if local_stack is not None:
            text = (local_stack.dir / "logs" / "service.log").read_text(encoding="utf-8", errors="replace")
            lines = smoke.lines_with(text, request_id)
        else:
            lines = smoke.search_logs(logs_url or "", request_id, os.environ.get("MONCHECK_LOGS_AUTH"))
        if not lines:
            time.sleep(0.5 if local_stack is not None else 5)
    if not lines:
        raise SmokeFailure("log line of a synthetic request", where, f"no line with request_id {request_id}")
    found = {line.get("trace_id") for line in lines}
    if found != {trace_id}:
        raise SmokeFailure("log line carries the request's trace id", where, f"trace ids {sorted(map(str, found))}, sent {trace_id}")
