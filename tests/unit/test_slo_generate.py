"""SLO generation: Sloth parity, golden files, drift, and generated files that promtool accepts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers import repo_with
from moncheck import slo, toolchain
from moncheck.slo.gofmt import go_float, parse_duration, prom_duration
from moncheck.slo.render import dump, groups_data
from moncheck.slo.rules import Info, slo_groups
from moncheck.slo.spec import load_file
from moncheck.slo.synth import regex_example
from moncheck.slo.windows import SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests/fixtures/slo"
UPDATE = os.environ.get("MONCHECK_UPDATE_GOLDEN") == "1"
needs_promtool = pytest.mark.skipif(toolchain.find("promtool") is None, reason="promtool missing")


@pytest.mark.parametrize(("value", "text"), [
    (99.9 / 100, "0.9990000000000001"), ((100 - 99.9) / 100, "0.0009999999999999432"),
    (99.99 / 100, "0.9998999999999999"), (14.4, "14.4"), (6.0, "6"), (30.0, "30"),
    (1e-05, "1e-05"), (1e6, "1e+06"), (123456.0, "123456"), (0.98, "0.98"),
], ids=lambda x: str(x))
def test_go_float_matches_go_fmt(value: float, text: str) -> None:
    assert go_float(value) == text


@pytest.mark.parametrize(("text", "shown"), [("30d", "30d"), ("28d", "4w"), ("7d", "1w"),
                                             ("90m", "1h30m"), ("5m", "5m")])
def test_prom_duration_like_prometheus_model(text: str, shown: str) -> None:
    assert prom_duration(parse_duration(text)) == shown


# Burn factors per period, as Sloth prints them (30d: examples/_gen; 7d: Sloth's
# internal/k8sprometheus storage test with its examples/windows/7d.yaml).
@pytest.mark.parametrize(("period", "factors"), [
    ("30d", ["14.4", "6", "3", "1"]),
    ("28d", ["13.44", "5.6000000000000005", "2.8000000000000003", "0.9333333333333333"]),
    ("7d", ["13.44", "3.5", "1.4000000000000001", "0.98"]),
])
def test_burn_factors_scale_with_period_like_sloth(period: str, factors: list[str]) -> None:
    ws = SUPPORTED[parse_duration(period)]
    got = [go_float(ws.factor(w)) for w in (ws.page_quick, ws.page_slow, ws.ticket_quick,
                                            ws.ticket_slow)]
    assert got == factors


def _body(text: str) -> list[str]:
    """Rule YAML without comments/blank lines (the headers differ by design)."""
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("#", "---"))]


def test_identical_to_sloth_getting_started() -> None:
    spec, errs = load_file(FIX / "sloth/getting-started.yml", "getting-started.yml")
    assert errs == []
    info = Info(version="dev", extra_labels={"cmd": "examplesgen.sh"}, sloth_exact=True)
    ours = dump(groups_data([g for s in spec.slos for g in slo_groups(s, info)]))
    sloth = (FIX / "sloth/getting-started.sloth-out.yml").read_text()
    assert _body(ours) == _body(sloth)


def test_default_output_differs_from_sloth_only_where_documented() -> None:
    """docs/slo.md lists the differences; this keeps that list honest."""
    spec, _ = load_file(FIX / "sloth/getting-started.yml", "getting-started.yml")
    info = Info(extra_labels={"cmd": "examplesgen.sh"})
    ours = _body(dump(groups_data([g for s in spec.slos for g in slo_groups(s, info)])))
    sloth = _body((FIX / "sloth/getting-started.sloth-out.yml").read_text())
    import difflib
    changed = [ln for ln in difflib.unified_diff(sloth, ours, lineterm="", n=0)
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == [
        "+      sloth_id: myservice-requests-availability",
        "+      sloth_service: myservice",
        "+      sloth_slo: requests-availability",
        "-      sloth_version: dev",
        "+      sloth_version: moncheck",
    ]


@pytest.mark.parametrize("name", sorted(p.stem for p in (FIX / "good").glob("*.yml")))
def test_golden_files(tmp_path: Path, name: str) -> None:
    repo = repo_with(tmp_path, FIX / "good" / f"{name}.yml")
    plan = slo.plan(repo)
    assert plan.ok, [f.text() for f in plan.findings]
    for kind, rel in (("rules", f"monitoring/prometheus/rules/slo/{name}.yml"),
                      ("test", f"tests/rules/slo/{name}.test.yml")):
        golden = FIX / "golden" / f"{name}.{kind}.yml"
        got = plan.files.get(Path(rel))
        if got is None:
            assert not golden.exists(), f"{rel} no longer generated"
            continue
        if UPDATE:
            golden.write_text(got)
        assert golden.exists(), f"missing {golden}: run with MONCHECK_UPDATE_GOLDEN=1"
        assert got == golden.read_text(), f"{rel} differs from {golden}"


def test_generation_is_deterministic() -> None:
    assert slo.plan(ROOT).files == slo.plan(ROOT).files


def test_committed_project_files_are_fresh() -> None:
    assert slo.check_drift(ROOT) == []


def test_drift_detects_edit_missing_and_orphan(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, FIX / "good/api.yml")
    slo.write(repo, slo.plan(repo))
    assert slo.check_drift(repo) == []
    rules = repo / "monitoring/prometheus/rules/slo/api.yml"
    rules.write_text(rules.read_text().replace("14.4", "20"))
    (repo / "tests/rules/slo/api.test.yml").unlink()
    orphan = repo / "monitoring/prometheus/rules/slo/gone.yml"
    orphan.write_text("# Code generated by moncheck slo generate; DO NOT EDIT.\ngroups: []\n")
    hand = repo / "monitoring/prometheus/rules/slo/hand.yml"
    hand.write_text("groups: []\n")  # not generated: never touched
    got = sorted((f.check, f.path, f.message) for f in slo.check_drift(repo))
    assert got == [
        ("slo/stale", "monitoring/prometheus/rules/slo/api.yml", "generated SLO file is out of date"),
        ("slo/stale", "monitoring/prometheus/rules/slo/gone.yml",
         "generated SLO file is no spec generates it any more"),
        ("slo/stale", "tests/rules/slo/api.test.yml", "generated SLO file is missing"),
    ]
    slo.write(repo, slo.plan(repo))
    assert slo.check_drift(repo) == [] and not orphan.exists() and hand.exists()


def test_invalid_specs_generate_nothing(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, FIX / "bad/missing-window.yml")
    plan = slo.plan(repo)
    assert not plan.ok and plan.files == {}
    assert slo.check_drift(repo) == []  # validate() reports the spec; drift is unknowable


@needs_promtool
def test_generated_rules_and_tests_pass_promtool(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, *sorted((FIX / "good").glob("*.yml")),
                     ROOT / "monitoring/slos/gocarbon-api.yml")
    slo.write(repo, slo.plan(repo))
    rules = sorted((repo / "monitoring/prometheus/rules/slo").glob("*.yml"))
    r = subprocess.run(["promtool", "check", "rules", *map(str, rules)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "FAILED" not in r.stdout + r.stderr, r.stdout + r.stderr
    tests = sorted((repo / "tests/rules/slo").glob("*.test.yml"))
    assert len(tests) == 2
    r = subprocess.run(["promtool", "test", "rules", *map(str, tests)], capture_output=True,
                       text=True, timeout=120, cwd=repo)
    assert r.returncode == 0, r.stdout + r.stderr


@needs_promtool
@pytest.mark.parametrize(("old", "new"), [("(14.4 *", "(40 *"), ("(3 *", "(5 *"),
                                          ("(1 *", "(0.1 *")],
                         ids=["page-too-lax", "ticket-too-lax", "ticket-too-strict"])
def test_generated_tests_catch_wrong_thresholds(tmp_path: Path, old: str, new: str) -> None:
    repo = repo_with(tmp_path, FIX / "good/api.yml")
    slo.write(repo, slo.plan(repo))
    rules = repo / "monitoring/prometheus/rules/slo/api.yml"
    rules.write_text(rules.read_text().replace(old, new))
    r = subprocess.run(["promtool", "test", "rules", "tests/rules/slo/api.test.yml"],
                       capture_output=True, text=True, timeout=120, cwd=repo)
    assert r.returncode != 0, r.stdout


@pytest.mark.parametrize(("regex", "example"), [("5..", "500"), ("(5..|429)", "500"),
                                                ("[45][0-9]{2}", "400"), ("failure", "failure"),
                                                ("/api/.*", "/api/")])
def test_regex_example(regex: str, example: str) -> None:
    assert regex_example(regex) == example
