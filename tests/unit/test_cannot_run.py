"""A test whose binary is missing is skipped locally and fails where green must mean correct."""

from __future__ import annotations

import pytest

from moncheck.pytest_plugin import cannot_run


def test_skips_without_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="^promtool missing$"):
        cannot_run("promtool missing")


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_fails_with_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception,
                       match=r"^promtool missing \(CI is set: a check that cannot run is a failure\)$"):
        cannot_run("promtool missing")
