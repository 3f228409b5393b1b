"""Fire drills: one test per drill of monitoring/drills/ (ids = names), plus the dashboard panels.

Run with ``pytest -m load`` (``--speed N`` to change the compression, ``--drill-jobs N`` the
stacks at once). Every drill runs on its own stack, all of them (and the dashboard check) in one
parallel run when the first test needs them; each test then asserts its drill's result.
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
def drill_run(request: pytest.FixtureRequest) -> Any:
    from moncheck.drills import parallel
    from moncheck.stack.fixtures import DEFAULT_SPEED
    from moncheck.stack import missing_binaries

    missing = missing_binaries()
    if missing:
        from moncheck.pytest_plugin import cannot_run

        cannot_run(f"fire drills need {', '.join(missing)}")
    speed = request.config.getoption("--speed", None) or DEFAULT_SPEED
    jobs = request.config.getoption("--drill-jobs", None) or parallel.default_jobs()
    return parallel.run_drills(REPO, DRILLS, speed, jobs=jobs, panels=True, progress=None)


def test_drill_files_valid() -> None:
    assert not LOAD_ERROR, LOAD_ERROR


@pytest.mark.parametrize("drill", DRILLS, ids=[d.name for d in DRILLS])
def test_drill(drill_run: Any, drill: Any) -> None:
    assert not drill_run.errors, "; ".join(drill_run.errors)
    (res,) = [r for r in drill_run.results if r.name == drill.name]
    if res.ignored:  # visible in -rA / the log, never silently dropped
        print(f"{drill.name}: ignored untestable alerts that fired: {', '.join(res.ignored)}")
    problems = res.failures + [m for a in res.alerts for m in a.failures]
    detail = "; ".join(
        f"{a.alert}: detection {a.detection_s} (floor {a.detection_floor_s}), pipeline {a.pipeline_s}, "
        f"delivery {a.delivery_s}, resolved {a.resolved_s}" for a in res.alerts)
    assert not problems, f"drill {drill.name} ({drill.path}): " + "; ".join(problems) + (f" [{detail}]" if detail else "")


def test_dashboard_panels_have_data(drill_run: Any) -> None:
    """Every panel of monitoring/grafana/dashboards under traffic and a mild combined fault."""
    assert not drill_run.errors, "; ".join(drill_run.errors)
    assert not drill_run.panels, "\n".join(f.text() for f in drill_run.panels)
