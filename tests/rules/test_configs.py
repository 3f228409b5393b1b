"""promtool and amtool on the repository's monitoring config; one case per routing test."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck import yamlpos
from moncheck.findings import Severity, render_text
from moncheck.tools import ToolMissing

pytestmark = pytest.mark.rules

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "monitoring/prometheus/rules"
PROMETHEUS = REPO / "monitoring/prometheus/prometheus.yml"
ALERTMANAGER = REPO / "monitoring/alertmanager/alertmanager.yml"
ROUTING_TESTS = REPO / "monitoring/alertmanager/routing-tests.yml"

RULE_FILES = sorted(RULES_DIR.rglob("*.yml")) if RULES_DIR.is_dir() else []


def _errors(findings: list) -> str:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    return render_text(errors)


def _needs(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} does not exist yet")


def _call(fn, *args):  # type: ignore[no-untyped-def]
    __tracebackhide__ = True
    try:
        return fn(*args)
    except ToolMissing as e:
        pytest.skip(str(e))


@pytest.mark.parametrize(
    "rule_file",
    RULE_FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no rule files yet"))],
    ids=lambda p: p.relative_to(RULES_DIR).as_posix() if p else "none",
)
def test_rule_file_passes_promtool(rule_file: Path) -> None:
    from moncheck.tools import promtool

    assert not (msg := _errors(_call(promtool.check_rules, [rule_file], REPO))), msg


def test_prometheus_config_passes_promtool() -> None:
    from moncheck.tools import promtool

    _needs(PROMETHEUS)
    assert not (msg := _errors(_call(promtool.check_config, PROMETHEUS, REPO))), msg


def test_alertmanager_config_passes_amtool() -> None:
    from moncheck.tools import amtool

    _needs(ALERTMANAGER)
    assert not (msg := _errors(_call(amtool.check_config, ALERTMANAGER, REPO))), msg


def _routing_params() -> list:
    from moncheck.tools.amtool import routing_cases

    if not ROUTING_TESTS.is_file():
        return [pytest.param(None, id="none", marks=pytest.mark.skip(reason="no routing-tests.yml yet"))]
    try:
        cases = routing_cases(ROUTING_TESTS, REPO)
    except yamlpos.LoadError as e:  # shown as one failing case, not a collection traceback
        return [pytest.param(e, id="routing-tests.yml")]
    return [pytest.param(i, id=c.name) for i, c in enumerate(cases)]


@pytest.mark.parametrize("case", _routing_params())
def test_routing_case(case: int | yamlpos.LoadError) -> None:
    from moncheck.tools import amtool

    if isinstance(case, yamlpos.LoadError):
        pytest.fail(str(case), pytrace=False)
    _needs(ALERTMANAGER)
    finding = _call(amtool.run_routing_case, ALERTMANAGER, ROUTING_TESTS, REPO, case)
    assert finding is None, finding.text()
