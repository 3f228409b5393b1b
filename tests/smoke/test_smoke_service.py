"""The service's /health and /metrics endpoints."""

import pytest

from moncheck.smoke import checks
from moncheck.smoke import repo as repo_mod
from moncheck.smoke.retry import SmokeFailure

HEALTH_SCHEMA = "policies/schemas/health.schema.json"


def test_health_schema_and_status(smoke_run, record_property):
    schema = smoke_run.repo / HEALTH_SCHEMA
    if not schema.is_file():
        pytest.skip(f"{HEALTH_SCHEMA} not found")
    doc = checks.health(smoke_run.target, schema)
    record_property("components", ",".join(sorted(doc["checks"])))


@pytest.fixture(scope="module")
def exposition(smoke_target):
    return checks.metrics_text(smoke_target)


def test_metrics_cover_catalog(smoke_run, exposition):
    url, text = exposition
    missing = checks.missing_metrics(text, repo_mod.service_metrics(smoke_run.repo))
    if missing:
        raise SmokeFailure("/metrics exposes every cataloged service metric", url,
                           f"missing {len(missing)}: {', '.join(missing)}")


def test_metrics_pass_promtool(exposition):
    url, text = exposition
    problems = checks.promtool_lint(text)
    if problems is None:
        pytest.skip("promtool not installed")
    if problems:
        raise SmokeFailure("promtool check metrics", url, f"{len(problems)} problem(s): {'; '.join(problems)}")
