"""The ``mutate:`` policy: minimum scores per severity, equivalent mutants with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck.cli import main
from moncheck.inventory import parse_rules
from moncheck.mutate.mutants import Mutant
from moncheck.mutate.policy import from_data
from moncheck.yamlpos import loads

POLICY = """\
version: 1
mutate:
  min_score: {critical: 100, default: 50}
  timeout: 90s
  equivalent:
    - rule: Busy
      operator: comparison
      mutant: "sum by (job) (rate(requests_total[5m])) > 1 -> sum by (job) (rate(requests_total[5m])) >= 1"
      reason: the rate is never exactly 1 in production traffic
    - rule: Busy
      operator: threshold
      mutant: "x -> y"
    - rule: Gone
      operator: threshold
      mutant: "a -> b"
      reason: stale entry of a mutated rule
"""


def test_from_data() -> None:
    pol = from_data(loads(POLICY, "policies/policy.yml"), "policies/policy.yml")
    assert pol.min_score == {"critical": 100.0, "default": 50.0}
    assert pol.required("critical") == 100 and pol.required("warning") == 50 and pol.required(None) == 50
    assert pol.timeout_s == 90
    assert [(e.rule, e.operator, e.line) for e in pol.equivalent] == [("Busy", "comparison", 6), ("Gone", "threshold", 13)]
    assert [f.text() for f in pol.findings] == [(
        "policies/policy.yml:10: warning: policy/suppression: equivalent mutant without reason: ignored "
        "until it has one (hint: each entry needs rule, operator, mutant (as the survivor line prints it) and reason)")]


def test_defaults_without_policy() -> None:
    pol = from_data(None, None)
    assert pol.required("critical") == 100 and pol.required(None) == 100 and not pol.equivalent


def test_equivalent_matches_whitespace_insensitively() -> None:
    pol = from_data(loads(POLICY, "p.yml"), "p.yml")
    rule = parse_rules("r.yml", loads("groups:\n- name: g\n  rules:\n  - alert: Busy\n    expr: x\n", "r.yml")).rules[0]
    old = "sum by (job) (rate(requests_total[5m])) > 1"
    m = Mutant(rule, "comparison", old, old.replace(">", ">="), "expr", "...")
    assert pol.equivalent_of(m) is pol.equivalent[0]
    assert pol.equivalent_of(Mutant(rule, "threshold", old, old, "expr", "...")) is None


def test_policy_in_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository's policy applies: the `>=` survivor is suppressed as equivalent, the stale
    entry of the mutated rule Busy is not (Gone is not mutated: not stale)."""
    from test_runner import RULES, TEST  # type: ignore[import-not-found]

    (tmp_path / ".git").mkdir()
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies/policy.yml").write_text(POLICY.replace("Gone", "Busy").replace(
        "mutant: \"a -> b\"", "mutant: \"never -> printed\""))
    rules = tmp_path / "monitoring/prometheus/rules"
    rules.mkdir(parents=True)
    (rules / "busy.yml").write_text(RULES)
    (tmp_path / "tests/rules").mkdir(parents=True)
    (tmp_path / "tests/rules/busy.test.yml").write_text(TEST.replace("[rules.yml]", "[../../monitoring/prometheus/rules/busy.yml]"))
    monkeypatch.chdir(tmp_path)
    rc = main(["mutate"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 1  # critical needs 100%: the x0.5 and x0.1 threshold mutants survive
    assert not [x for x in out if "mutate/comparison: survived" in x and ">= 1" in x]
    assert ("policies/policy.yml:13: warning: policy/suppression: equivalent mutant of Busy (threshold: "
            "never -> printed) matches no surviving mutant (hint: remove the entry, or update it to the "
            "mutant as the survivor line prints it)") in out
    assert "1 equivalent" in out[-1]
