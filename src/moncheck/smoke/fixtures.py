"""pytest plugin for smoke checks: ``--env``, target resolution, fixtures, one-line failures
and the monitoring-plugin style summary (``SMOKE OK - 23 checks passed | ...``).

Registered through the ``pytest11`` entry point ``moncheck_smoke``. Heavy imports stay lazy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from moncheck.smoke.retry import SmokeFailure
from moncheck.smoke.targets import URL_KEYS, Target, TargetError, resolve

SUMMARY_KEY = pytest.StashKey["SmokeSummary"]()


@dataclass
class CheckResult:
    nodeid: str
    outcome: str  # passed | failed | skipped
    seconds: float
    message: str = ""
    properties: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class SmokeSummary:
    results: dict[str, CheckResult] = field(default_factory=dict)
    environment: str = ""

    def line(self) -> str:
        # Time spent in the smoke checks themselves: not the stack start, nor other tests of
        # the same pytest session.
        results = list(self.results.values())
        return status_line(results, sum(r.seconds for r in results))


def status_line(results: list[CheckResult], seconds: float) -> str:
    """One line in the style of a monitoring plugin: STATUS - text | perfdata."""
    failed = [r for r in results if r.outcome == "failed"]
    passed = [r for r in results if r.outcome == "passed"]
    skipped = [r for r in results if r.outcome == "skipped"]
    total = len(passed) + len(failed)
    perf = f"checks={total} failed={len(failed)} skipped={len(skipped)} time={seconds:.2f}s"
    if failed:
        names = ", ".join(r.nodeid.split("::")[-1] for r in failed)
        return f"SMOKE CRITICAL - {len(failed)} of {total} failed: {names} | {perf}"
    if not total:
        return f"SMOKE UNKNOWN - no checks ran | {perf}"
    return f"SMOKE OK - {total} checks passed | {perf}"


def markdown_summary(summary: SmokeSummary) -> str:
    rows = ["| Check | Result | Time | Detail |", "|---|---|---|---|"]
    icon = {"passed": "✅ pass", "failed": "❌ FAIL", "skipped": "⏭ skip"}
    for r in summary.results.values():
        props = ", ".join(f"{k}={v}" for k, v in r.properties)
        detail = (r.message or props).replace("|", "\\|")
        rows.append(f"| `{r.nodeid.split('::', 1)[-1]}` | {icon[r.outcome]} | {r.seconds:.2f}s | {detail} |")
    env = summary.environment or "local"
    return f"## Smoke checks ({env})\n\n**{summary.line()}**\n\n" + "\n".join(rows) + "\n"


# ------------------------------------------------------------------ options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("moncheck-smoke", "moncheck smoke checks")
    group.addoption("--env", dest="moncheck_env", default=None,
                    help="environment of monitoring/uptime/<env>.yml (default: MONCHECK_ENV, else the local stack)")
    for key in URL_KEYS:
        group.addoption(f"--{key.replace('_', '-')}", dest=f"moncheck_{key}", default=None,
                        help=f"override the target's {key} (or MONCHECK_{key.upper()})")
    group.addoption("--smoke-summary", dest="moncheck_smoke_summary", default=None,
                    help="write a Markdown summary of the smoke checks to this file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "smoke: smoke checks of a running target (pytest -m smoke)")
    config.addinivalue_line("markers", "smoke_last: run at the end of the smoke session")
    config.stash[SUMMARY_KEY] = SmokeSummary()


def _repo_root(config: pytest.Config) -> Path:
    env = os.environ.get("MONCHECK_REPO")
    if env:
        return Path(env)
    for p in [Path(str(config.rootpath)), *Path(str(config.rootpath)).parents]:
        if (p / "monitoring").is_dir():
            return p
    return Path(str(config.rootpath))


def _resolve(config: pytest.Config) -> Target:
    options = {k: config.getoption(f"moncheck_{k}", None) for k in URL_KEYS}
    return resolve(_repo_root(config), config.getoption("moncheck_env", None), options)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``uptime_check`` with the environment's checks (ids = check names)."""
    if "uptime_check" not in metafunc.fixturenames:
        return
    try:
        checks = list(_resolve(metafunc.config).checks)
    except TargetError:
        checks = []  # the smoke_target fixture reports the error once, with its location
    if checks:
        metafunc.parametrize("uptime_check", checks, ids=[c.slug for c in checks])
    else:
        metafunc.parametrize("uptime_check", [pytest.param(None, marks=pytest.mark.skip(
            reason="the environment lists no uptime checks"))], ids=["none"])


_SMOKE_IDS: set[str] = set()  # node ids of items marked `smoke` (not merely named so)


@pytest.hookimpl(trylast=True)  # after conftest files have added their markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The "did not grow during the run" checks need the rest of the run to have happened.
    items.sort(key=lambda it: it.get_closest_marker("smoke_last") is not None)
    _SMOKE_IDS.update(it.nodeid for it in items if it.get_closest_marker("smoke") is not None)


# ------------------------------------------------------------------ fixtures


@dataclass
class SmokeRun:
    target: Target
    repo: Path
    am_failed_at_start: float | None = None


@pytest.fixture(scope="session")
def smoke_run(request: pytest.FixtureRequest) -> Iterator[SmokeRun]:
    """The resolved target (local stack when no environment is chosen) and session baselines."""
    try:
        target = _resolve(request.config)
    except TargetError as e:
        pytest.fail(f"smoke target: {e}", pytrace=False)
    if not all(getattr(target, k) for k in URL_KEYS):
        if target.environment != "local":
            missing = [k for k in URL_KEYS if not getattr(target, k)]
            pytest.fail(f"smoke target {target.source}: no {', '.join(missing)} "
                        f"(set them in the file or with --{missing[0].replace('_', '-')})", pytrace=False)
        stack = request.getfixturevalue("stack")
        target = target.with_urls({k: getattr(stack, k, None) for k in URL_KEYS})
    request.config.stash[SUMMARY_KEY].environment = target.environment
    run = SmokeRun(target, _repo_root(request.config))
    from moncheck.smoke import checks

    try:  # baseline for "failed notifications did not grow"; failure here is reported by that test
        run.am_failed_at_start = checks.failed_notifications(target)
    except SmokeFailure:
        run.am_failed_at_start = None
    yield run


@pytest.fixture(scope="session")
def smoke_target(smoke_run: SmokeRun) -> Target:
    return smoke_run.target


@pytest.fixture(scope="session")
def smoke_hosts(smoke_run: SmokeRun) -> Iterator[list[Any]]:
    """testinfra hosts: ``ssh://host`` for each host the environment lists, else local.

    Remote hosts need the SSH key the environment file names (``ssh.key_env``, a repository
    secret in the workflows); without one, host checks are skipped with that reason."""
    from moncheck.smoke import sshkeys

    try:
        with sshkeys.hosts(smoke_run.target) as hosts:
            yield hosts
    except sshkeys.NoKey as e:
        pytest.skip(f"host checks skipped: {e}")


# ------------------------------------------------------------------ reporting


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    rep = outcome.get_result()
    if call.excinfo is not None and isinstance(call.excinfo.value, SmokeFailure):
        # One line: what was checked, against what, and what came back. No traceback.
        rep.longrepr = str(call.excinfo.value)


_SUMMARY: SmokeSummary | None = None  # set at session start; logreport has no config access


def pytest_sessionstart(session: pytest.Session) -> None:
    global _SUMMARY
    _SUMMARY = session.config.stash[SUMMARY_KEY]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _SUMMARY is None or report.nodeid not in _SMOKE_IDS:
        return
    results = _SUMMARY.results
    prev = results.get(report.nodeid)
    if report.failed:
        if prev is None or prev.outcome != "failed":  # keep the first failure of an item
            results[report.nodeid] = CheckResult(report.nodeid, "failed", report.duration,
                                                 _one_line(report.longrepr))
    elif report.skipped:
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        results[report.nodeid] = CheckResult(report.nodeid, "skipped", 0.0, reason)
    elif report.when == "call":
        results[report.nodeid] = CheckResult(report.nodeid, "passed", report.duration)
    if report.when == "teardown" and report.nodeid in results:
        results[report.nodeid].properties = list(report.user_properties)


def _one_line(longrepr: Any) -> str:
    """The failure's one-line message (our SmokeFailure text, or the crash message)."""
    if longrepr is None:
        return ""
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = config.stash.get(SUMMARY_KEY, None)
    if summary is None or not summary.results:
        return
    failed = [r for r in summary.results.values() if r.outcome == "failed"]
    if failed:
        terminalreporter.section("smoke failures", sep="-")
        for r in failed:
            terminalreporter.write_line(f"{r.nodeid.split('::', 1)[-1]}: {r.message}")
    terminalreporter.write_line(summary.line(), bold=True, red=bool(failed), green=not failed)
    path = config.getoption("moncheck_smoke_summary", None)
    if path:
        from moncheck import atomic

        atomic.write_text(Path(path), markdown_summary(summary))
