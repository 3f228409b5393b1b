"""pytest plugin (``pytest11`` entry point ``moncheck``).

- Markers ``rules``, ``policy``, ``load``, ``smoke``; options in the ``moncheck`` group.
- Every promtool test file the repository's ``moncheck.yml`` names (``rule_tests`` globs; default
  ``tests/rules/**/*.test.yml``) is collected with ONE ITEM PER TEST GROUP, named after the
  group's ``name:``, else the alerts it tests, else ``group<N>``, so ``-k HighErrorRate`` works on
  any repository.
  Running: the whole file once per session (one promtool start, ~75 ms); only when it fails is
  each failing group re-run alone to attribute the failure to it. Green runs, the common case,
  cost one promtool call per file instead of one per group.
- A ``policy`` item beside them (in ``tests/rules``) runs the gate's static policy checks.
Heavy imports happen only when a test file is actually collected or run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from moncheck.tools.promtool import FileFailure, TestGroup

MARKERS = {
    "rules": "promtool/amtool tests of rules and Alertmanager config (fast, no stack)",
    "policy": "the static policy gate on the repository (moncheck check)",
    "load": "fire drills: load on the local stack, alerts must fire, route and resolve",
    "smoke": "checks against a deployed environment (--env); network access to the target",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("moncheck", "moncheck (monitoring as code)")
    group.addoption(
        "--moncheck-repo",
        metavar="DIR",
        default=None,
        help="repository checked by the policy item (default: pytest's rootdir)",
    )
    group.addoption(
        "--moncheck-no-policy",
        action="store_true",
        default=False,
        help="do not collect the policy item in tests/rules",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def cannot_run(reason: str) -> None:
    """A test whose tool or binary is missing: skipped locally, failed where green must mean
    correct (``CI`` set, as in ``moncheck check``'s strict mode)."""
    __tracebackhide__ = True
    from moncheck.failclosed import strict_requested

    if strict_requested(False):
        pytest.fail(f"{reason} (CI is set: a check that cannot run is a failure)", pytrace=False)
    pytest.skip(reason)


def pytest_report_header(config: pytest.Config) -> str:
    """Which binaries this run used (``MONCHECK_TOOLCHAIN``), on the first lines of the output."""
    from moncheck import toolchain

    try:
        return f"moncheck {toolchain.record().text()}"
    except toolchain.ToolMissing as e:
        return f"moncheck toolchain: {e}"


def _repo_root(config: pytest.Config) -> Path:
    opt = config.getoption("moncheck_repo")
    return Path(opt).resolve() if opt else config.rootpath


_TESTS_KEY = pytest.StashKey[tuple[frozenset[Path], str | None]]()


def _rule_test_files(config: pytest.Config) -> tuple[frozenset[Path], str | None]:
    """The promtool test files of the repository's configuration, and why the configuration
    cannot be read (None when it can); computed once per session."""
    if _TESTS_KEY not in config.stash:
        from moncheck import config as config_mod

        try:
            cfg = config_mod.load(_repo_root(config))
            config.stash[_TESTS_KEY] = (frozenset(p.resolve() for p in cfg.files("rule_tests")), None)
        except config_mod.ConfigError as e:
            config.stash[_TESTS_KEY] = (frozenset(), f"{e.path}:{e.line}: {e.message}")
    return config.stash[_TESTS_KEY]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yml", ".yaml", ".toml"):
        return None
    files, problem = _rule_test_files(parent.config)
    if problem is not None and file_path.parent == _repo_root(parent.config) and file_path.name in ("moncheck.yml", "pyproject.toml"):
        return BrokenConfig.from_parent(parent, path=file_path, problem=problem)
    if file_path.suffix != ".toml" and file_path.resolve() in files:
        return PromtoolFile.from_parent(parent, path=file_path)
    return None


class BrokenConfig(pytest.File):
    """A ``moncheck.yml`` that cannot be read: one collection error naming file and line."""

    def __init__(self, *, problem: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.problem = problem

    def collect(self) -> Any:
        raise self.CollectError(self.problem)


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # tests/rules also holds the policy item. Packages (with __init__.py) keep pytest's collector.
    if (
        path.name == "rules"
        and path.parent.name == "tests"
        and not (path / "__init__.py").exists()
        and not parent.config.getoption("moncheck_no_policy")
    ):
        return RulesDir.from_parent(parent, path=path)
    return None


def _promtool_missing() -> str | None:
    from moncheck.tools import ToolMissing, find_binary

    try:
        find_binary("promtool")
    except ToolMissing as e:
        return str(e)
    return None


class PromtoolFailure(Exception):
    """A promtool test group failed; ``args[0]`` is promtool's diff."""


class PromtoolFile(pytest.File):
    """A promtool rule test file; one item per test group."""

    _whole: tuple[bool, str] | None = None
    _failure: FileFailure | None = None

    def collect(self) -> Any:
        from moncheck import yamlpos
        from moncheck.tools.promtool import test_groups

        try:
            groups = test_groups(self.path, self._display())
        except yamlpos.LoadError as e:
            raise self.CollectError(f"{e.path}:{e.line}: {e.message}") from None
        if not groups:
            raise self.CollectError(f"{self._display()}:1: no `tests:` groups in promtool test file")
        for g in groups:
            yield PromtoolGroup.from_parent(self, name=g.name, group=g)

    def _display(self) -> str:
        try:
            return self.path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return str(self.path)

    def whole(self) -> tuple[bool, str]:
        """(passed, output) of the whole file, run once per session."""
        if self._whole is None:
            from moncheck.tools.promtool import run_test_file

            self._whole = run_test_file(self.path)
        return self._whole

    def failure(self) -> FileFailure:
        """Why the file failed (per group, as ``moncheck check`` reports it), once per session."""
        if self._failure is None:
            from moncheck.tools.promtool import file_failure

            self._failure = file_failure(self.path, self._display(), self.whole()[1])
        return self._failure


class PromtoolGroup(pytest.Item):
    def __init__(self, *, group: TestGroup, **kw: Any) -> None:
        super().__init__(**kw)
        self.group = group
        self.add_marker(pytest.mark.rules)
        # `-k AlertName` also selects groups named otherwise that test that alert.
        self.extra_keyword_matches.update(group.alerts)

    def setup(self) -> None:
        reason = _promtool_missing()
        if reason:
            cannot_run(reason)

    def runtest(self) -> None:
        __tracebackhide__ = True
        parent = self.parent
        assert isinstance(parent, PromtoolFile)
        ok, _ = parent.whole()
        if ok:
            return
        failure = parent.failure()
        if self.group.index in failure.messages:
            raise PromtoolFailure(failure.messages[self.group.index])
        if failure.file_level and not failure.messages:  # the file itself is broken
            raise PromtoolFailure("\n".join(f.text() for f in failure.file_level))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PromtoolFailure):
            # The same text as `moncheck check`: group, first difference, promtool's message.
            return f"{self.path.name}:{self.group.line}: {excinfo.value.args[0]}"
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.group.line - 1, f"promtool group: {self.name}"


class RulesDir(pytest.Dir):  # type: ignore[misc]  # Dir is @final for typing only; the subclass keeps its usual collection
    """``tests/rules``: its usual content plus the policy item."""

    def collect(self) -> Any:
        yield from super().collect()
        yield PolicyItem.from_parent(self, name="moncheck-policy")


class PolicyFailure(Exception):
    pass


class PolicyItem(pytest.Item):
    """The gate's static policy checks on the repository (``moncheck check`` without the
    promtool/amtool wrappers, which the rule items and test_configs.py cover); fails on errors."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.add_marker(pytest.mark.policy)

    def _repo(self) -> Path:
        return _repo_root(self.config)

    def runtest(self) -> None:
        __tracebackhide__ = True
        from moncheck import yamlpos
        from moncheck.findings import Severity, render_text
        from moncheck.gate import run_gate

        try:
            # promtool/amtool run in the other tests/rules items; not twice.
            result = run_gate(self._repo(), [], tools=False)
        except yamlpos.LoadError as e:
            raise PolicyFailure(f"{e.path}:{e.line}: error: {e.message}") from None
        errors = [f for f in result.findings if f.severity is Severity.ERROR]
        if errors:
            raise PolicyFailure(render_text(result.findings))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PolicyFailure):
            return f"moncheck check {self._repo()} found errors:\n{excinfo.value.args[0]}"
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, "moncheck policy gate"
