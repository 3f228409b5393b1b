"""Alertmanager is ready, runs the repository's routing, and delivered every notification."""

import pytest

from moncheck import yamlpos
from moncheck.smoke import checks
from moncheck.smoke import repo as repo_mod
from moncheck.smoke.retry import SmokeFailure


def test_alertmanager_ready(smoke_target):
    checks.ready(smoke_target, "alertmanager", "Alertmanager ready")


def test_alertmanager_config_matches_repository(smoke_run):
    path = smoke_run.repo / repo_mod.AM_CONFIG
    if not path.is_file():
        pytest.skip(f"{repo_mod.AM_CONFIG} not found")
    want = repo_mod.routing_shape(yamlpos.load(path, repo_mod.AM_CONFIG))
    try:
        got = repo_mod.routing_shape(checks.alertmanager_config(smoke_run.target))
    except yamlpos.LoadError as e:  # the running config is not one the model can read
        raise SmokeFailure("Alertmanager routing equals " + repo_mod.AM_CONFIG,
                           smoke_run.target.url("alertmanager_url"), f"loaded config: {e.message}") from None
    diff = repo_mod.diff_shapes(want, got)
    if diff:
        raise SmokeFailure(f"Alertmanager routing equals {repo_mod.AM_CONFIG}",
                           smoke_run.target.url("alertmanager_url"), "; ".join(diff[:5]))


@pytest.mark.smoke_last
def test_failed_notifications_did_not_grow(smoke_run, record_property):
    end = checks.failed_notifications(smoke_run.target)
    start = smoke_run.am_failed_at_start
    record_property("notifications_failed_total", end)
    if start is None:
        raise SmokeFailure("alertmanager_notifications_failed_total sampled at session start",
                           smoke_run.target.url("alertmanager_url"), "was not readable at start")
    if end > start:
        raise SmokeFailure("alertmanager_notifications_failed_total did not grow",
                           smoke_run.target.url("alertmanager_url"), f"{start:g} -> {end:g}")
