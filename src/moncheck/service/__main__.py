"""``python -m moncheck.service``: run the reference service and its fault-control port."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from moncheck import resources
from moncheck.netutil import is_loopback

from .analytics import Analytics
from .app import App
from .catalog import CatalogError, load
from .db import Database
from .faults import Faults
from .health import Health
from .logs import JsonLogger
from .metrics import ServiceMetrics
from .server import (
    UptimeMonitor,
    make_control_handler,
    make_server,
    make_service_handler,
)
from .telemetry import Telemetry, current_log_fields

DEFAULT_CATALOG = Path("monitoring/catalog/metrics.yml")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m moncheck.service", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True, help="service port (0: pick a free one)")
    p.add_argument("--control-host", default="127.0.0.1", help="must be a loopback address")
    p.add_argument("--control-port", type=int, required=True, help="fault-control port (0: pick a free one)")
    p.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    p.add_argument("--schemas", type=Path, default=None,
                   help="directory of analytics-*.schema.json (default: policies/schemas of the catalog's repository)")
    p.add_argument("--log-file", type=Path, default=None, help="request log (default: stdout)")
    p.add_argument("--error-log-file", type=Path, default=None, help="lines at level error, again (the seed's logs/error.log)")
    p.add_argument("--errors-policy", type=Path, default=None,
                   help="error-tracking policy (default: monitoring/errors/errors.yml of the catalog's repository)")
    p.add_argument("--no-telemetry", action="store_true",
                   help="run without sentry-sdk and OpenTelemetry (overhead benchmark only; log ids are zero)")
    p.add_argument("--tracing-policy", type=Path, default=None,
                   help="tracing policy (default: monitoring/tracing/tracing.yml of the catalog's repository)")
    p.add_argument("--environment", default=os.environ.get("NODE_ENV", "local"))
    p.add_argument("--uptime-interval", type=float, default=10.0,
                   help="seconds between self uptime checks (0 disables)")
    p.add_argument("--memory-cap-mb", type=int, default=1024, help="ceiling of injected memory growth")
    p.add_argument("--memory-limit-mb", type=int, default=2048,
                   help="RSS the memory health check compares with (80%% degraded, 90%% unhealthy)")
    return p


def _fail(message: str) -> int:
    print(f"moncheck: error: {message}", file=sys.stderr)
    return 2


def _schema_dir(args: argparse.Namespace) -> Path:
    if args.schemas is not None:
        return args.schemas
    # monitoring/catalog/metrics.yml -> <repo>/policies/schemas
    repo = args.catalog.resolve().parent.parent.parent
    candidate = repo / "policies" / "schemas"
    return candidate if candidate.is_dir() else resources.schema_dir()


def _policy(given: Path | None, catalog: Path, rel: str) -> Path:
    """The policy file: given, or the catalog's repository's, or this package's repository's."""
    if given is not None:
        return given
    for repo in (catalog.resolve().parent.parent.parent, Path(__file__).resolve().parents[3]):
        if (repo / rel).is_file():
            return repo / rel
    return Path(rel)


def _telemetry(args: argparse.Namespace) -> Telemetry:
    from moncheck.telemetry.spec import load_errors, load_tracing

    errors = load_errors(_policy(args.errors_policy, args.catalog, "monitoring/errors/errors.yml"))
    tracing = load_tracing(_policy(args.tracing_policy, args.catalog, "monitoring/tracing/tracing.yml"))
    return Telemetry(errors, tracing, args.environment, enabled=not args.no_telemetry)


def _initialise_failure_series(app: App, uptime: bool) -> None:
    """Expose the failure series at 0 from the start, as Prometheus' instrumentation guide advises.

    A counter series that appears with its first increment is invisible to ``rate()`` (there is no
    earlier sample to diff against), so the first 5xx of each route, or the first failed uptime
    check, would never reach an error ratio, an SLO or a dashboard. Error-ratio panels also show 0
    instead of "no data" on a healthy service.
    """
    http_total = app.metrics["http_requests_total"]
    for route in app.routes:
        http_total.labels(method=route.method, route=route.template, status_code="500")
    if not uptime:
        return
    checks = app.metrics["uptime_check_duration_seconds"]
    for name, _path, _timeout in UptimeMonitor.CHECKS:
        for result in ("success", "failure"):
            checks.labels(check=name, result=result)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not is_loopback(args.control_host):
        return _fail(f"--control-host {args.control_host} is not a loopback address; "
                     "the fault control must only be reachable from this machine")
    if args.memory_cap_mb <= 0 or args.memory_cap_mb > 4096:
        return _fail("--memory-cap-mb must be 1..4096")
    try:
        specs = load(args.catalog)
        metrics = ServiceMetrics(specs, str(args.catalog))
        analytics = Analytics(metrics, _schema_dir(args))
    except CatalogError as e:
        return _fail(str(e))

    from moncheck.telemetry.spec import SpecError
    try:
        telemetry = _telemetry(args)
    except (SpecError, ValueError) as e:
        return _fail(str(e))

    log_stream: TextIO
    error_stream: TextIO | None = None
    try:
        log_stream = open(args.log_file, "a", encoding="utf-8", buffering=1) if args.log_file else sys.stdout
        if args.error_log_file:
            error_stream = open(args.error_log_file, "a", encoding="utf-8", buffering=1)
    except OSError as e:
        telemetry.shutdown()
        return _fail(f"{e.filename}: cannot open log file: {e.strerror}")
    logger = JsonLogger(log_stream, args.environment, current_log_fields, error_stream)

    faults = Faults(set(), args.memory_cap_mb)
    db = Database(metrics, faults)
    health = Health(metrics, faults, db, args.memory_limit_mb)
    app = App(metrics, db, health, analytics, telemetry.page_config())
    faults.known_routes = app.templates
    health.check()  # the health gauge has values before the first /health request
    _initialise_failure_series(app, uptime=args.uptime_interval > 0)

    try:
        service = make_server(args.host, args.port, make_service_handler(app, faults, logger, telemetry))
    except OSError as e:
        return _fail(f"cannot listen on {args.host}:{args.port}: {e.strerror}")
    try:
        control = make_server(args.control_host, args.control_port, make_control_handler(faults))
    except OSError as e:
        service.server_close()
        return _fail(f"cannot listen on {args.control_host}:{args.control_port}: {e.strerror}")

    port, control_port = service.server_address[1], control.server_address[1]
    uptime = UptimeMonitor(app, args.host, port, args.uptime_interval)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
               for s in (service, control)]
    for t in threads:
        t.start()
    uptime.start()
    # One machine-readable line on stderr so a supervisor that passed port 0 learns the ports.
    print(f"moncheck.service: listening port={port} control_port={control_port} host={args.host}",
          file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        uptime.stop()
        for s in (service, control):
            s.shutdown()
            s.server_close()
        faults.stop()
        telemetry.shutdown()  # flush queued spans and events before the process goes
        if log_stream is not sys.stdout:
            log_stream.close()
        if error_stream is not None:
            error_stream.close()
    print("moncheck.service: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
