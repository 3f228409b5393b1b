"""The scenario planner kills every modelled mutant of the generated rules, for any period,
objective and `for` we can draw (the claim docs/slo.md makes); promtool confirms the model on the
generated files (test_slo_generate.py, test_slo_properties.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moncheck import yamlpos
from moncheck.slo import burnmodel as bm
from moncheck.slo import scenarios
from moncheck.slo.gofmt import parse_duration
from moncheck.slo.spec import load_file
from moncheck.slo.windows import SUPPORTED, Windows, parse_alert_windows

FIX = Path(__file__).resolve().parents[1] / "fixtures/slo"


def _alerts(period: str, objective: float, page_for: str, ticket_for: str) -> tuple[bm.Alert, ...]:
    return _alerts_of(SUPPORTED[parse_duration(period)], objective, page_for, ticket_for)


def _openslo_windows() -> Windows:
    spec, errs = load_file(FIX / "good/openslo-alerts.yml", "o.yml")
    assert errs == [] and spec.slos[0].windows is not None
    return spec.slos[0].windows


def _alerts_of(ws: Windows, objective: float, page_for: str,
               ticket_for: str) -> tuple[bm.Alert, ...]:
    b = (100 - objective) / 100
    return (bm.alert_of("page", ws, ws.page_quick, ws.page_slow, b, parse_duration(page_for)),
            bm.alert_of("ticket", ws, ws.ticket_quick, ws.ticket_slow, b,
                        parse_duration(ticket_for)))


@pytest.mark.parametrize(("period", "objective"), [("30d", 99.9), ("28d", 99), ("7d", 99.5),
                                                   ("30d", 95), ("30d", 99.999)])
def test_every_modelled_mutant_is_killed(period: str, objective: float) -> None:
    plan = scenarios.plan(_alerts(period, objective, "2m", "10m"))
    assert plan.total > 100 and plan.survivors == []
    titles = [s.title for s in plan.scenarios]
    assert titles[0].startswith("fast burn turns into a medium burn: the page keeps firing")
    assert titles[-1] == "burn within budget stays silent"


@settings(max_examples=4, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(period=st.sampled_from(["30d", "28d", "7d"]),
       objective=st.floats(96, 99.99).map(lambda x: round(x, 2)),
       page_for=st.sampled_from(["0s", "1m", "3m", "5m"]),
       ticket_for=st.sampled_from(["0s", "15m", "1h"]))
def test_every_modelled_mutant_is_killed_for_drawn_slos(period: str, objective: float,
                                                        page_for: str, ticket_for: str) -> None:
    plan = scenarios.plan(_alerts(period, objective, page_for, ticket_for))
    assert plan.survivors == []


def _custom(path: str) -> Windows:
    doc = yamlpos.load(FIX / path)
    ws, errs = parse_alert_windows(doc, path)
    assert errs == [] and ws is not None
    return ws


@pytest.mark.parametrize("objective", [99.9, 99])
def test_custom_alert_windows_kill_every_modelled_mutant(objective: float) -> None:
    """A custom AlertWindows file (14d, tests/fixtures/slo/windows/14d.yml) and OpenSLO
    burn-rate conditions (thresholds stated, short window 1/12 of the long one)."""
    for ws in (_custom("windows/14d.yml"), _openslo_windows()):
        plan = scenarios.plan(_alerts_of(ws, objective, "2m", "10m"))
        assert plan.total > 100 and plan.survivors == []


def test_two_minute_windows_leave_only_the_prometheus_3_equivalents() -> None:
    """Sloth's examples/windows/custom-30d.yaml has a 2m short window: sampled once a minute,
    rate[2m] under Prometheus 3 (left-open) sees the last two samples, exactly what irate sees.
    Every other mutant is killed (a range halved on one side reads one sample, nothing, so the
    ratio is empty)."""
    plan = scenarios.plan(_alerts_of(_custom("sloth/windows-custom-30d.yaml"), 99.9, "2m", "10m"))
    assert plan.survivors == ["sli: 2m rule errors irate", "sli: 2m rule total irate"]


def test_objective_100_kills_what_is_not_equivalent() -> None:
    """All thresholds 0: any error in the 5m window is also in the 30m and 6h ones, so the fast
    pair is implied by the slow pair and weakening it changes nothing, nor does scaling a ratio
    (`increase`). What decides the alert (the slow pair, `or`, `for`) is still killed."""
    plan = scenarios.plan(_alerts("30d", 100, "2m", "10m"))
    decisive = ("page: pair 2", "page: 30m condition selects nothing", "page: or -> and",
                "page: for", "ticket: pair 2", "ticket: 6h condition selects nothing",
                "ticket: or -> and", "ticket: for", "sli: 30m rule errors irate")
    assert plan.survivors and not [s for s in plan.survivors if s.startswith(decisive)]


def test_model_rate_matches_prometheus_on_one_minute_samples() -> None:
    """1000 events a minute, 10 bad: every window's ratio is 1% from the first sample on."""
    w = scenarios.workload((scenarios.Segment(30, 0.01),), 1000)
    ev = bm.Evaluator(w, 1)
    for minutes in (5.0, 60.0, 4320.0):
        r = ev.ratio(bm.Ratio(minutes))
        assert r[0] != r[0]  # one sample: no rate (NaN)
        assert all(abs(x - 0.01) < 1e-12 for x in r[1:])


def test_slos_of_one_shape_share_one_plan(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan cache key is the alerts' shape (thresholds, windows, `for`, severities): SLOs
    that differ only in names, queries and labels share one plan; a different `for` or
    objective is another shape, and shapes that differ only in their objective share the
    plan of their canonical shape (planned once)."""
    from helpers import repo_with
    from moncheck import slo

    spec = """version: prometheus/v1
service: svc{i}
labels: {{team: t{i}}}
slos:
  - name: availability{i}
    objective: {objective}
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="j{i}",status_code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{job="j{i}"}}[{{{{.window}}}}]))
    alerting:
      name: Svc{i}Burn
      page_alert: {{for: {page_for}}}
      ticket_alert: {{for: 10m}}
"""
    files = []
    for i, (objective, page_for) in enumerate([(99.9, "2m"), (99.9, "2m"), (99.9, "5m"),
                                               (99.5, "2m")]):
        p = tmp_path / f"s{i}.yml"
        p.write_text(spec.format(i=i, objective=objective, page_for=page_for))
        files.append(p)
    repo = repo_with(tmp_path / "repo", *files)
    monkeypatch.setenv("MONCHECK_CACHE_DIR", "")  # no plans from earlier runs
    scenarios.clear_caches()
    p = slo.plan(repo)
    assert p.ok, [f.text() for f in p.findings]
    info = scenarios._plan.cache_info()
    # Missed: the three shapes and the canonical shapes of `for: 2m` and `for: 5m`; hit: the
    # second SLO of the first shape, and the `for: 2m` canonical shape for the 99.5% SLO.
    assert (info.misses, info.hits) == (5, 2)
    # Sharing a plan, the two same-shape SLOs get the same scenarios (only names differ).
    a, b = (p.files[Path(f"tests/rules/slo/svc{i}-availability{i}.test.yml")] for i in (0, 1))
    assert a.replace("0", "1") == b.replace("0", "1") and a != b


def test_plans_kept_on_disk_are_the_computed_plans(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan cache between runs (MONCHECK_CACHE_DIR, default the user's cache): a plan read
    back equals the computed one; an unreadable file is recomputed and rewritten; the key
    holds the model's code, so another model never reads it."""
    # The plan kept is the canonical shape's (99.5% maps to it; see the next test).
    alerts = scenarios._canonical(_alerts("28d", 99.5, "2m", "10m"))
    assert alerts is not None
    scenarios.clear_caches()
    computed = scenarios.plan(alerts)
    path = tmp_path / f"{scenarios._key(alerts)}.json"
    scenarios.clear_caches()
    assert scenarios.plan(alerts, tmp_path) == computed and path.is_file()
    scenarios.clear_caches()
    assert scenarios._read(path) == computed == scenarios.plan(alerts, tmp_path)
    path.write_text('{"scenarios": [{"title": 1}]}')
    scenarios.clear_caches()
    assert scenarios.plan(alerts, tmp_path) == computed and scenarios._read(path) == computed
    monkeypatch.setattr(scenarios, "_model_version", lambda: "another model")
    assert scenarios._key(alerts) != path.stem
    monkeypatch.setenv("MONCHECK_CACHE_DIR", "")
    assert scenarios.default_cache_dir() is None
    monkeypatch.setenv("MONCHECK_CACHE_DIR", str(tmp_path))
    assert scenarios.default_cache_dir() == tmp_path / "slo-plans"


def test_a_shapes_plan_does_not_depend_on_what_was_planned_before() -> None:
    """Planned alone or after other objectives of its canonical shape, a shape gets the same
    plan (so a generated file never changes with the rest of the repository), and the scaled
    canonical scenarios leave no modelled mutant alive."""
    scenarios.clear_caches()
    alone = scenarios.plan(_alerts("30d", 99.5, "2m", "10m"))
    scenarios.clear_caches()
    for objective in (99.9, 99.0, 99.95):
        assert scenarios.plan(_alerts("30d", objective, "2m", "10m")).survivors == []
    assert scenarios.plan(_alerts("30d", 99.5, "2m", "10m")) == alone
    assert alone.survivors == [] and alone.total == 132


_SELECTOR_SPEC = """version: prometheus/v1
service: svc
slos:
  - name: availability
    objective: {objective}
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="svc",route!~"/health|/metrics",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{job="svc",route!~"/health|/metrics"}}[{{{{.window}}}}]))
    alerting:
      name: SvcAvailability
      page_alert: {{for: 2m}}
      ticket_alert: {{for: 10m}}
  - name: latency
    objective: {objective}
    sli:
      events:
        error_query: (sum(rate(lat_seconds_count{{job="svc"}}[{{{{.window}}}}])) - sum(rate(lat_seconds_bucket{{job="svc",le="0.5"}}[{{{{.window}}}}])))
        total_query: sum(rate(lat_seconds_count{{job="svc"}}[{{{{.window}}}}]))
    alerting:
      name: SvcLatency
      page_alert: {{for: 5m}}
      ticket_alert: {{for: 10m}}
  - name: checks
    objective: {objective}
    sli:
      events:
        error_query: sum(increase(probe_total{{job="svc",check="home",result="failure"}}[{{{{.window}}}}]))
        total_query: sum(increase(probe_total{{job="svc",check="home"}}[{{{{.window}}}}]))
    alerting:
      name: SvcChecks
      page_alert: {{for: 2m}}
      ticket_alert: {{for: 10m}}
"""


@pytest.mark.parametrize("objective", [99.9, 99.5, 99])
def test_the_sli_selectors_are_modelled_and_every_mutant_of_them_is_killed(
        tmp_path: Path, objective: float) -> None:
    """Each side of an SLI is a sum of terms, one per selector, read from the synthesised
    series (halves and decoys included); every modelled mutant of them (one selector's range,
    function, sum -> avg, a matcher removed or negated) is killed, for SLIs of several forms."""
    from moncheck.slo import synth, testgen
    from moncheck.slo.rules import alert_rules, windows_of

    p = tmp_path / "s.yml"
    p.write_text(_SELECTOR_SPEC.format(objective=objective))
    spec, errs = load_file(p, "s.yml")
    assert errs == [] and spec is not None
    seen = {}
    for slo in spec.slos:
        work, why = synth.synthesise(slo, None)
        assert work is not None, why
        sli = testgen.model_sli(slo, work)
        alerts = testgen.model_alerts(slo, alert_rules(slo, windows_of(slo)), work)
        seen[slo.name] = sli
        muts = [m.name for m in bm.mutants(alerts)]
        plan = scenarios.plan(alerts)
        assert plan.survivors == [], (slo.name, plan.survivors)
        assert plan.total == len(muts)
        if slo.name == "availability":
            # job and route each have a decoy (another job, an excluded route); code has none
            # (the total side reads every code): its removal on the errors side reads the good
            # requests instead.
            assert [a.name for a in sli.err[0].alts] == [
                "job= removed", "job= negated", "route!~ removed", "route!~ negated",
                "code=~ removed", "code=~ negated"]
            assert sli.err[0].n == 2 and sli.tot[0].n == 4  # halves: 2 of 5xx, 2+2 in total
            assert "sli: 5m rule errors sum -> avg" in muts
            assert "sli: 1h rule total route!~ removed" in muts
    lat = seen["latency"]
    assert [t.sign for t in lat.err] == [1.0, -1.0] and len(lat.tot) == 1
    assert seen["checks"].err[0].fn == "increase"
