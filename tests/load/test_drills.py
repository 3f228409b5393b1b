"""Fire drills on the session's local stack: one test per drill in monitoring/drills/ (ids = names).

Run with ``pytest -m load`` (``--speed N`` to change the compression). Drills share one service,
so they run one after the other, the healthy baseline first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moncheck.drills.spec import DrillError, load_drills, run_order

REPO = Path(__file__).resolve().parents[2]

try:
    DRILLS = run_order(load_drills(REPO))
except DrillError as e:  # reported as one failing test rather than a collection crash
    DRILLS = []
    LOAD_ERROR = str(e)
else:
    LOAD_ERROR = ""

pytestmark = pytest.mark.load


@pytest.fixture(scope="module")
def timings(stack: Any) -> Any:
    from moncheck.drills.runner import stack_timings
    return stack_timings(stack)


def test_drill_files_valid() -> None:
    assert not LOAD_ERROR, LOAD_ERROR


@pytest.mark.parametrize("drill", DRILLS, ids=[d.name for d in DRILLS])
def test_drill(stack: Any, timings: Any, drill: Any) -> None:
    from moncheck.drills.runner import run_drill, untestable_alerts
    res = run_drill(stack, drill, timings, progress=None, ignore=untestable_alerts(DRILLS))
    if res.ignored:  # visible in -rA / the log, never silently dropped
        print(f"{drill.name}: ignored untestable alerts that fired: {', '.join(res.ignored)}")
    problems = res.failures + [m for a in res.alerts for m in a.failures]
    detail = "; ".join(
        f"{a.alert}: fired {a.fired_s if a.fired_s is None else round(a.fired_s, 1)}s "
        f"(min {a.min_fire_s:.1f}s), notified {dict((k, round(v, 1)) for k, v in a.notified_s.items())}, "
        f"resolved {a.resolved_s if a.resolved_s is None else round(a.resolved_s, 1)}s"
        for a in res.alerts)
    assert not problems, f"drill {drill.name} ({drill.path}): " + "; ".join(problems) + (f" [{detail}]" if detail else "")


# ---------------------------------------------------------------- dashboards
# Defined after test_drill so that they run after every drill of the session: the drills' errors,
# latencies, database failures and poor web vitals are then inside the panels' windows, which is
# where panels about failures have data. Each dashboard is one case, named by its file.
from moncheck.drills.dashboards import dashboard_files  # noqa: E402 - grouped with its tests

DASHBOARDS = dashboard_files(REPO)


@pytest.fixture(scope="module")
def mixed_traffic(stack: Any) -> Any:
    """A few seconds of bounded API + browser traffic, still running while the panels are queried."""
    import time

    from moncheck.drills.locust_proc import LocustRun
    from moncheck.drills.runner import MIXED
    with LocustRun(stack.service_url, MIXED, 120) as load:
        time.sleep(3)
        yield load


def test_dashboards_found() -> None:
    assert DASHBOARDS, f"no dashboards under {REPO / 'monitoring/grafana/dashboards'}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_dashboard_panels_have_data(stack: Any, timings: Any, mixed_traffic: Any, path: Path) -> None:
    import time

    from moncheck.drills.dashboards import check_dashboard
    problems = check_dashboard(stack, path, str(path.relative_to(REPO)), timings.scrape_ms,
                               time.monotonic() - stack.started_at)
    assert not problems, "\n".join(problems)
