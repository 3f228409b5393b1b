"""Prometheus is ready, scrapes every target, runs exactly the repository's rules without errors."""

from moncheck.smoke import checks
from moncheck.smoke import repo as repo_mod
from moncheck.smoke.retry import SmokeFailure, eventually

# A freshly started stack needs a scrape and an evaluation interval before targets and rules
# report health; a deployed Prometheus answers at once, so this only costs time on a cold start.
SETTLE_S = 20.0


def test_prometheus_ready(smoke_target):
    checks.ready(smoke_target, "prometheus", "Prometheus ready")


def test_scrape_targets_up(smoke_target):
    seen: list[tuple[str, str, str]] = []

    def scraped() -> bool:
        seen[:] = checks.scrape_targets(smoke_target)
        return bool(seen) and all(health != "unknown" for _, health, _ in seen)

    # Wait only for targets not scraped yet; a target that is down fails at once.
    eventually(scraped, within=SETTLE_S)
    bad = [f"{name}={health}" + (f" ({err})" if err else "") for name, health, err in seen if health != "up"]
    if bad or not seen:
        raise SmokeFailure("every scrape target up", smoke_target.url("prometheus_url"),
                           "; ".join(bad) or "no active targets")


def test_rule_groups_match_repository(smoke_run):
    want = repo_mod.rule_groups(smoke_run.repo)
    diff = checks.rule_group_diff(checks.loaded_rule_groups(smoke_run.target), want)
    if diff:
        raise SmokeFailure("loaded rule groups equal monitoring/prometheus/rules",
                           smoke_run.target.url("prometheus_url"), "; ".join(diff))


def test_no_rule_evaluation_errors(smoke_target):
    errors = checks.rule_errors(checks.loaded_rule_groups(smoke_target))
    if errors:
        raise SmokeFailure("no rule evaluation errors", smoke_target.url("prometheus_url"), "; ".join(errors))


def test_no_critical_alert_firing(smoke_target):
    firing = checks.firing_critical(smoke_target)
    if firing:
        raise SmokeFailure("no critical alert firing", smoke_target.url("prometheus_url"), ", ".join(firing))
