from __future__ import annotations

from pathlib import Path

from checkhelp import CATALOG, alert, rules

from moncheck.checks.registry import CHECKS, OTHER_IDS
from moncheck.gate import OPT_IN_REASON, run_gate

DOCS = Path(__file__).resolve().parents[3] / "docs" / "checks"


def test_every_check_id_has_a_doc_page_and_is_unique() -> None:
    ids = [c.id for c in CHECKS] + OTHER_IDS
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not (DOCS / f"{i}.md").is_file()] == []


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_suppression_with_reason_hides_only_its_target(tmp_path: Path) -> None:
    _write(tmp_path, {
        "monitoring/catalog/metrics.yml": CATALOG,
        "monitoring/prometheus/rules/r.yml": rules(alert(for_="1m"), alert(name="Other", for_="1m")),
        "policies/policy.yml": "enable: [alerts/for]\n"
                               "suppressions:\n  - {check: alerts/for, target: TargetDown, reason: flapping target is fine}\n",
    })
    res = run_gate(tmp_path, [], tools=False)
    fors = [f for f in res.findings if f.check == "alerts/for"]
    assert [f.line for f in fors] == [16]
    assert [f.line for f in res.suppressed if f.check == "alerts/for"] == [6]


def test_findings_sorted_and_loose_mode_skips_with_reasons(tmp_path: Path) -> None:
    _write(tmp_path, {"r.yml": rules(alert(name="b_alert", for_="1s"), alert(name="a_alert", for_="1s"))})
    res = run_gate(tmp_path, [Path("r.yml")], tools=False)
    # Correctness first: snake_case names and a 1s `for` are organisation rules, off by default.
    assert res.findings == []
    skipped = dict(res.skipped)
    assert "catalog" in skipped["promql/unknown-metric"]
    assert skipped["alerts/untested"] == OPT_IN_REASON
    assert skipped["alerts/for"] == OPT_IN_REASON
    opted = run_gate(tmp_path, [Path("r.yml")], tools=False, policy=_policy(tmp_path, "enable: [alerts/for]\nalert_name_pattern: '^[A-Z]'\n"))
    assert opted.findings == sorted(opted.findings)
    assert [(f.check, f.line) for f in opted.findings] == [("alerts/name", 4), ("alerts/for", 6), ("alerts/name", 14), ("alerts/for", 16)]
    assert "promtool" in dict(opted.skipped)["alerts/untested"] or dict(opted.skipped)["alerts/untested"] == OPT_IN_REASON


def _policy(root: Path, text: str) -> Path:
    (root / "pol.yml").write_text(text)
    return root / "pol.yml"


def test_missing_tool_module_or_binary_is_skipped_not_raised(tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path, {"r.yml": rules(alert())})
    monkeypatch.setenv("PATH", str(tmp_path))  # no promtool/amtool on PATH
    monkeypatch.setenv("MONCHECK_TOOLCHAIN_DIR", str(tmp_path / "no-toolchain"))  # nor fetched ones
    res = run_gate(tmp_path, [Path("r.yml")])
    assert not [f for f in res.findings if "internal error" in f.message]


def test_two_thousand_rules_all_analysed(tmp_path: Path) -> None:
    items = [alert(name=f"Alert{i}", expr=f"rate(http_requests_total{{route=\"/r{i}\"}}[5m]) > {i}") for i in range(2000)]
    _write(tmp_path, {"monitoring/catalog/metrics.yml": CATALOG, "monitoring/prometheus/rules/r.yml": rules(*items),
                      "policies/policy.yml": "enable: [alerts/untested]\n"})
    res = run_gate(tmp_path, [], tools=False)
    # Scale, not speed (timings live in bench/gate.py): every one of 2,000 rules is analysed.
    assert len([f for f in res.findings if f.check == "alerts/untested"]) == 2000
