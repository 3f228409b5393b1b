"""Fail closed: configured artifacts must be there; with CI/--strict a skipped check fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moncheck import failclosed
from moncheck.gate import run_gate
from moncheck.inventory import load_paths, load_repo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for part in ("monitoring", "policies", "tests/rules"):
        shutil.copytree(ROOT / part, tmp_path / part)
    return tmp_path


def test_this_repository_has_every_configured_artifact() -> None:
    inv = load_repo(ROOT)
    assert failclosed.missing(inv, failclosed.configured(inv)) == []


def test_loose_paths_configure_nothing() -> None:
    inv = load_paths([ROOT / "monitoring/prometheus/rules/service.yml"], ROOT)
    assert failclosed.configured(inv) == ()


def test_the_repository_config_names_the_artifacts(repo: Path) -> None:
    """The typed repository config (moncheck.yml) replaces the default layout: what it names
    is required, what it leaves out is not."""
    from moncheck import config as config_mod

    cfg = config_mod.from_mapping(repo, "moncheck.yml", {"version": 1, "alertmanager": "monitoring/alertmanager/alertmanager.yml",
                                                         "drills": ["monitoring/extra/*.yml"]}, {})
    shutil.rmtree(repo / "monitoring/uptime")  # not configured: not an error
    inv = load_repo(repo, cfg)
    got = [(f.check, f.path, f.message) for f in failclosed.missing(inv, failclosed.configured(inv, cfg))]
    assert got == [("repo/missing", "monitoring/extra", "drills: monitoring/extra/ is missing")]


@pytest.mark.parametrize("value, strict", [("true", True), ("1", True), ("", False), ("false", False), ("0", False)])
def test_ci_environment_means_strict(value: str, strict: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", value)
    assert failclosed.strict_requested(False) is strict
    assert failclosed.strict_requested(True) is True


def test_a_skipped_configured_check_fails_only_when_strict(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONCHECK_PROMTOOL", str(repo / "no-such-promtool"))
    lenient = run_gate(repo, strict=False)
    assert "promtool/check-rules" in {cid for cid, _ in lenient.skipped}
    assert not [f for f in lenient.findings if f.check.startswith("promtool/")]
    strict = run_gate(repo, strict=True)
    got = {(f.check, f.path, f.line) for f in strict.findings if f.check.startswith("promtool/")}
    assert got == {("promtool/check-rules", "monitoring/prometheus/rules", 1),
                   ("promtool/check-config", "monitoring/prometheus/prometheus.yml", 1),
                   ("promtool/test-rules", "tests/rules", 1)}
    assert all(f.message.startswith("check did not run: promtool binary not found")
               for f in strict.findings if f.check.startswith("promtool/"))
