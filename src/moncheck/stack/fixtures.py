"""pytest plugin: the session-scoped ``stack`` fixture (one local stack for tests/load and tests/smoke).

Imports of the stack are lazy so that loading this plugin costs nothing in other test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DEFAULT_SPEED = 60.0  # as `moncheck drill`: the whole load suite fits in ~5 minutes


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("moncheck-stack", "moncheck local stack")
    group.addoption("--speed", type=float, default=None,
                    help=f"time compression factor of the local stack (default {DEFAULT_SPEED:g})")
    group.addoption("--drill-jobs", type=int, default=None,
                    help="fire drills: stacks running at once (default: from cores and memory)")
    group.addoption("--stack-repo", default=None,
                    help="repository whose monitoring/ the stack runs (default: rootdir)")


def running_stack(config: pytest.Config) -> Iterator[Any]:
    """Start a local stack for a fixture (speed and repository from the options), stop it after."""
    from moncheck.stack import Stack, StackError, missing_binaries

    missing = missing_binaries()
    if missing:
        from moncheck.pytest_plugin import cannot_run

        cannot_run(f"local stack needs {', '.join(missing)}")
    speed = config.getoption("--speed") or DEFAULT_SPEED
    repo = Path(config.getoption("--stack-repo") or config.rootpath)
    s = Stack(repo, speed=speed)
    try:
        s.start()
    except StackError as e:
        pytest.fail(f"local stack did not start: {e}", pytrace=False)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running local stack; skipped with a reason when prometheus/alertmanager are missing."""
    yield from running_stack(request.config)
