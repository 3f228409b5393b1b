"""Fire drills on the session's local stack: one test per drill in monitoring/drills/ (ids = names).

Run with ``pytest -m load`` (``--speed N`` to change the compression). Drills share one service,
so they run one after the other, the healthy baseline first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moncheck.drills.spec import DrillError, load_drills

REPO = Path(__file__).resolve().parents[2]

try:
    DRILLS = sorted(load_drills(REPO), key=lambda d: (not d.baseline, d.name))
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
    from moncheck.drills.runner import run_drill
    res = run_drill(stack, drill, timings, progress=None)
    problems = res.failures + [m for a in res.alerts for m in a.failures]
    detail = "; ".join(
        f"{a.alert}: fired {a.fired_s if a.fired_s is None else round(a.fired_s, 1)}s "
        f"(min {a.min_fire_s:.1f}s), notified {dict((k, round(v, 1)) for k, v in a.notified_s.items())}, "
        f"resolved {a.resolved_s if a.resolved_s is None else round(a.resolved_s, 1)}s"
        for a in res.alerts)
    assert not problems, f"drill {drill.name} ({drill.path}): " + "; ".join(problems) + (f" [{detail}]" if detail else "")
