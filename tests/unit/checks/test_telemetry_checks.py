"""Checks of monitoring/{errors,tracing,logging,lighthouse}/: each case mutates the repository's own
files and asserts the finding's id, file, line and message (or that the real files are clean)."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck.checks import telemetry as T
from moncheck.checks.base import Skip

ROOT = Path(__file__).resolve().parents[3]
ERR, TR, LOG = "monitoring/errors/errors.yml", "monitoring/tracing/tracing.yml", "monitoring/logging/logging.yml"
LINE, LH = "monitoring/logging/log-line.schema.json", "monitoring/lighthouse/lighthouserc.json"
DASH = "monitoring/grafana/dashboards/system-overview.json"
DS = "monitoring/grafana/provisioning/datasources/prometheus.yml"
FILES = (ERR, TR, LOG, LINE, LH, DASH, DS)


def real(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8")


def line_no(rel: str, text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle`` in ``text`` (the mutated file)."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {rel}")


def files(**edits: tuple[str, str]) -> dict[str, str]:
    """The real files, with ``{alias: (old, new)}`` replacements (each must match once)."""
    alias = {"err": ERR, "tr": TR, "log": LOG, "line": LINE, "lh": LH, "dash": DASH, "ds": DS}
    out = {rel: real(rel) for rel in FILES}
    for key, (old, new) in edits.items():
        rel = alias[key]
        assert out[rel].count(old) == 1, (rel, old)
        out[rel] = out[rel].replace(old, new)
    return out


# (id, check, edits, expected (file, needle for the line, message substring))
CASES = [
    ("filter-undeclared-env", T.errors_filter, {"err": ("environments: [development, test]", "environments: [development, dev]")},
     (ERR, "environments: [development, dev]", "drops environment 'dev', which is not declared")),
    ("filter-drops-production", T.errors_filter, {"err": ("environments: [development, test]", "environments: [development, production]")},
     (ERR, "environments: [development, production]", "drops every production event")),
    ("production-send-false", T.errors_filter, {"err": ("{name: production, send: true}", "{name: production, send: false}")},
     (ERR, "{name: production, send: false}", "environment 'production' has send: false")),
    ("errors-sampled", T.errors_filter, {"err": ("  errors: 1.0 ", "  errors: 0.5 ")},
     (ERR, "errors: 0.5", "sample_rates.errors is 0.5")),
    ("traces-rate-differs", T.telemetry_sample_rate, {"err": ("  traces: 0.1 ", "  traces: 0.2 ")},
     (ERR, "traces: 0.2", "sample_rates.traces is 0.2 but monitoring/tracing/tracing.yml samples 0.1")),
    ("tolerance-too-wide", T.telemetry_sample_rate, {"tr": ("tolerance: 0.05", "tolerance: 0.1")},
     (TR, "tolerance: 0.1", "tolerance 0.1 is not below the ratio 0.1")),
    ("span-pii", T.tracing_attributes, {"tr": ("    - url.path\n", "    - url.path\n    - enduser.id\n")},
     (TR, "required_attributes:", "required span attribute 'enduser.id' puts personal data")),
    ("span-no-route", T.tracing_attributes, {"tr": ("    - http.route              # the route TEMPLATE, never the raw path (bounded)\n", "")},
     (TR, "required_attributes:", "request spans do not require http.route")),
    ("panel-no-exemplar", T.dashboards_exemplar, {"dash": ('"exemplar": true', '"exemplar": false')},
     (DASH, '"title": "Response time p95"', "panel 'Response time p95' shows no exemplars")),
    ("exemplar-on-recorded", T.dashboards_exemplar,
     {"dash": ('"expr": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job=~\\"$job\\"}[5m])))"',
               '"expr": "job:http_request_duration_seconds:p95_rate5m"')},
     (DASH, '"exemplar": true', "selects no http_request_duration_seconds_bucket")),
    ("panel-missing", T.dashboards_exemplar, {"tr": ("title: Response time p95", "title: Latency")},
     (TR, "- dashboard: monitoring/grafana/dashboards/system-overview.json", "has no panel titled 'Latency'")),
    ("exemplar-unlinked", T.dashboards_exemplar, {"ds": ("        - name: trace_id\n", "        - name: traceID\n")},
     (DS, "  - name: Prometheus", "no exemplarTraceIdDestinations entry named 'trace_id'")),
    ("exemplar-link-unknown-ds", T.dashboards_exemplar, {"ds": ("datasourceUid: jaeger", "datasourceUid: tempo")},
     (DS, "- name: trace_id", "points at data source 'tempo', which is not provisioned")),
    ("trace-id-not-required", T.logging_correlation, {"line": ('"span_id", "request_id"]', '"span_id"]')},
     (LINE, '"required":', "correlation field 'request_id' is not required")),
    ("trace-id-uppercase", T.logging_correlation, {"line": ('"pattern": "^[0-9a-f]{32}$"', '"pattern": "^[0-9A-F]{32}$"')},
     (LINE, '"trace_id": {', "trace_id must be lower-case hex")),
    ("correlation-missing-property", T.logging_correlation, {"log": ("correlation: [trace_id, span_id, request_id]", "correlation: [trace_id, span_id, request_id, session_id]")},
     (LINE, '"properties": {', "correlation field 'session_id' is not a property")),
    ("user-id-logged", T.logging_forbidden_field, {"line": ('"ip": {"type": "string"},', '"ip": {"type": "string"},\n    "userId": {"type": "string"},')},
     (LINE, '"userId"', "log line property 'userId' is forbidden")),
    ("open-line-schema", T.logging_forbidden_field, {"line": ('"additionalProperties": false,', '"additionalProperties": true,')},
     (LINE, "{", "allows any other property")),
    ("level-enum-differs", T.logging_levels, {"line": ('"level": {"enum": ["error", "warn", "info", "debug"]}', '"level": {"enum": ["error", "warning", "info", "debug"]}')},
     (LINE, '"level": {', "log line level must be an enum of exactly")),
    ("default-level-unknown", T.logging_levels, {"log": ("default_level: info", "default_level: verbose")},
     (LOG, "default_level: verbose", "default_level 'verbose' is not one of levels")),
    ("lcp-warn-only", T.lighthouse_budget, {"lh": ('"largest-contentful-paint": ["error"', '"largest-contentful-paint": ["warn"')},
     (LH, '"largest-contentful-paint"', "largest-contentful-paint budget is at level 'warn'")),
    ("lcp-too-loose", T.lighthouse_budget, {"lh": ('"maxNumericValue": 2500', '"maxNumericValue": 4000')},
     (LH, '"largest-contentful-paint"', "budget 4000 is looser than web-vitals' good threshold 2500")),
    ("cls-missing", T.lighthouse_budget, {"lh": ('        "cumulative-layout-shift": ["error", {"maxNumericValue": 0.1, "aggregationMethod": "median-run"}],\n', "")},
     (LH, '"assertions": {', "no budget for cumulative-layout-shift")),
    ("public-upload", T.lighthouse_budget, {"lh": ('"target": "filesystem"', '"target": "temporary-public-storage"')},
     (LH, '"target"', "publishes every report on a public URL")),
]


@pytest.mark.parametrize("fn,edits,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_finding(repo, fn, edits, expected) -> None:
    fs = files(**edits)
    ctx = repo(fs, catalog=False)
    found = fn(ctx)
    rel, needle, message = expected
    assert [(f.check, f.path, f.line) for f in found] == [(found[0].check, rel, line_no(rel, fs[rel], needle))], found
    assert message in found[0].message, found[0].message
    assert found[0].check == {T.errors_filter: "errors/filter", T.telemetry_sample_rate: "telemetry/sample-rate",
                              T.tracing_attributes: "tracing/attributes", T.dashboards_exemplar: "dashboards/exemplar",
                              T.logging_correlation: "logging/correlation", T.logging_forbidden_field: "logging/forbidden-field",
                              T.logging_levels: "logging/levels", T.lighthouse_budget: "lighthouse/budget"}[fn]


CLEAN = [T.errors_filter, T.telemetry_sample_rate, T.tracing_attributes, T.dashboards_exemplar, T.logging_correlation,
         T.logging_forbidden_field, T.logging_levels, T.lighthouse_budget, T.schema_errors, T.schema_tracing,
         T.schema_logging, T.schema_lighthouse]


@pytest.mark.parametrize("fn", CLEAN, ids=[f.__name__ for f in CLEAN])
def test_repository_files_are_clean(repo, fn) -> None:
    assert fn(repo(files(), catalog=False)) == []


SCHEMA = [
    ("errors-unknown-key", T.schema_errors, {"err": ("dsn_env: SENTRY_DSN ", "dsn: SENTRY_DSN ")}, ERR, "service: gocarbon-tracker",
     "(top): 'dsn_env' is a required property"),
    ("errors-rate-type", T.schema_errors, {"err": ("  traces: 0.1 ", "  traces: high ")}, ERR, "traces: high", "sample_rates/traces: 'high' is not of type 'number'"),
    ("tracing-protocol", T.schema_tracing, {"tr": ("protocol: http/protobuf", "protocol: grpc")}, TR, "protocol: grpc", "exporter/protocol: 'grpc' is not one of"),
    ("logging-level", T.schema_logging, {"log": ("levels: [error, warn, info, debug]", "levels: [error, warning]")}, LOG, "levels: [error, warning]",
     "levels/1: 'warning' is not one of"),
    ("lighthouse-level", T.schema_lighthouse, {"lh": ('"categories:accessibility": ["warn"', '"categories:accessibility": ["fatal"')}, LH,
     '"categories:accessibility"', "ci/assert/assertions/categories:accessibility"),
]


@pytest.mark.parametrize("fn,edits,rel,needle,message", [c[1:] for c in SCHEMA], ids=[c[0] for c in SCHEMA])
def test_schema(repo, fn, edits, rel, needle, message) -> None:
    fs = files(**edits)
    found = fn(repo(fs, catalog=False))
    assert [(f.path, f.line) for f in found][:1] == [(rel, line_no(rel, fs[rel], needle))], found
    assert message in found[0].message, found[0].message


def test_absent_files_skip_with_reason(repo) -> None:
    ctx = repo({"monitoring/README.md": "x"}, catalog=False)
    for fn in CLEAN:
        with pytest.raises(Skip):
            fn(ctx)


def test_loose_files_are_recognised_and_checked(tmp_path: Path) -> None:
    from moncheck import policy
    from moncheck.checks.base import Context
    from moncheck.inventory import load_paths

    text = real(ERR).replace("{name: production, send: true}", "{name: production, send: false}")
    (tmp_path / "errors.yml").write_text(text)
    (tmp_path / "tracing.yml").write_text(real(TR))
    inv = load_paths([Path("errors.yml"), Path("tracing.yml")], tmp_path)
    assert inv.load_findings == [] and inv.errors is not None and inv.tracing is not None
    ctx = Context(inv, policy.from_data(None, None))
    found = T.errors_filter(ctx)
    assert [(f.check, f.path, f.line) for f in found] == [
        ("errors/filter", "errors.yml", line_no(ERR, text, "{name: production, send: false}"))]
    with pytest.raises(Skip, match="no dashboards among the paths"):
        T.dashboards_exemplar(ctx)
