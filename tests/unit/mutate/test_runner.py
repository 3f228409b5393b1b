"""The mutation runner and ``moncheck mutate`` on tiny real rule and test files (real promtool)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moncheck.cli import main
from moncheck.tools import ToolMissing, find_binary

try:
    find_binary("promtool")
except ToolMissing as e:  # pragma: no cover - the CI and dev machines have it
    pytest.skip(str(e), allow_module_level=True)

RULES = """\
groups:
  - name: g
    rules:
      - alert: Busy
        expr: sum by (job) (rate(requests_total[5m])) > 1
        labels:
          severity: critical
"""

# Busy at 2/s: a threshold of 1 doubled to 2 is no longer exceeded (killed), halved to 0.5 still
# is (survives); the idle job at 0/s never tells `>` from `>=`.
TEST = """\
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - name: Busy fires above 1/s
    interval: 1m
    input_series:
      - series: 'requests_total{job="api", instance="a"}'
        values: '0+120x20'
      - series: 'requests_total{job="idle", instance="a"}'
        values: '0x20'
    alert_rule_test:
      - eval_time: 10m
        alertname: Busy
        exp_alerts:
          - exp_labels: {job: api, severity: critical}
"""


def _write(tmp_path: Path, rules: str = RULES, test: str = TEST) -> tuple[Path, Path]:
    (tmp_path / "rules.yml").write_text(rules)
    (tmp_path / "busy.test.yml").write_text(test)
    return tmp_path / "rules.yml", tmp_path / "busy.test.yml"


def test_survivor_and_killed(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path)
    rc = main(["mutate", "rules.yml", "busy.test.yml", "--repo", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert rc == 1
    assert "rules.yml:5: mutate/threshold: survived: sum by (job) (rate(requests_total[5m])) > 1 -> sum by (job) (rate(requests_total[5m])) > 0.5" in out
    assert "rules.yml:5: mutate/comparison: survived: sum by (job) (rate(requests_total[5m])) > 1 -> sum by (job) (rate(requests_total[5m])) >= 1" in out
    # killed ones are not listed
    assert not [x for x in out if "> 2 " in x or x.endswith("> 2")]
    assert out[0].startswith("rules.yml:4: Busy (critical): ")
    assert out[-1].startswith("moncheck mutate: ")


def test_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path)
    rc = main(["mutate", "rules.yml", "busy.test.yml", "--format", "json", "--jobs", "1"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert doc["version"] == 1
    by = {(s["operator"], s["mutated"]) for s in doc["survivors"]}
    assert ("threshold", "sum by (job) (rate(requests_total[5m])) > 0.5") in by
    assert ("threshold", "sum by (job) (rate(requests_total[5m])) > 2") not in by
    rule = doc["rules"][0]
    assert (rule["rule"], rule["severity"], rule["required"], rule["ok"]) == ("Busy", "critical", 100.0, False)
    assert rule["killed"] + rule["survived"] == doc["killed"] + doc["survived"]
    assert doc["operators"]["threshold"]["killed"] >= 2  # x2 and x10
    s = next(s for s in doc["survivors"] if s["mutated"].endswith("> 0.5"))
    assert s["file"] == "rules.yml" and s["line"] == 5 and s["tests"] == ["busy.test.yml"]
    assert s["original_expr"] == "sum by (job) (rate(requests_total[5m])) > 1"
    assert s["mutated_expr"] == "sum by (job) (rate(requests_total[5m])) > 0.5"


STRONG = TEST + """\
  - name: Busy stays silent at exactly 1/s, fires at 0.75/s only above a lower threshold
    interval: 1m
    input_series:
      - series: 'requests_total{job="api", instance="a"}'
        values: '0+60x20'
      - series: 'requests_total{job="slow", instance="a"}'
        values: '0+45x20'
    alert_rule_test:
      - eval_time: 10m
        alertname: Busy
        exp_alerts: []
"""


def test_all_killed_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With a group at exactly the threshold and one between x0.5 and x1 every threshold and
    comparison mutant dies; what is left is suppressed as equivalent in the policy."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, test=STRONG)
    rc = main(["mutate", "rules.yml", "busy.test.yml", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    left = {(s["operator"], s["original"], s["mutated"]) for s in doc["survivors"]}
    assert not [s for s in left if s[0] in ("threshold", "comparison")], left
    assert rc == (1 if left else 0)


def test_stillborn_not_counted(tmp_path: Path) -> None:
    """A mutant promtool rejects (here a function promtool 2.x does not know) is stillborn: in
    no score. Only the mutants of one operator are generated (``only``)."""
    from moncheck.inventory import parse_rules
    from moncheck.mutate.mutants import Mutant
    from moncheck.mutate.runner import KILLED, STILLBORN, SURVIVED, Runner
    from moncheck.yamlpos import loads

    rules, test = _write(tmp_path)
    rf = parse_rules("rules.yml", loads(RULES, "rules.yml"))
    bad = Mutant(rf.rules[0], "function", "x", "y", "expr", "no_such_function(requests_total) > 1")
    res = Runner(jobs=2, timeout=30).run([(rf, rules)], [(test, "busy.test.yml")],
                                         only=lambda m: m.operator == "threshold", extra=[bad])
    got = [(o.mutant.new, o.status) for o in res.outcomes]
    assert got == [
        ("sum by (job) (rate(requests_total[5m])) > 0.5", SURVIVED),
        ("sum by (job) (rate(requests_total[5m])) > 2", KILLED),
        ("sum by (job) (rate(requests_total[5m])) > 0.1", SURVIVED),
        ("sum by (job) (rate(requests_total[5m])) > 10", KILLED),
        ("y", STILLBORN),
    ]
    assert "no_such_function" in res.outcomes[-1].detail


def test_baseline_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, test=TEST.replace("job: api", "job: nope"))
    rc = main(["mutate", "rules.yml", "busy.test.yml"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "busy.test.yml:1: error: mutate/baseline: the tests fail without any mutation" in out


def test_unobserved_rule_survives_without_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rules = RULES + "      - record: job:other:rate5m\n        expr: sum by (job) (rate(other_total[5m]))\n"
    _write(tmp_path, rules=rules)
    main(["mutate", "rules.yml", "busy.test.yml", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    other = [s for s in doc["survivors"] if s["rule"] == "job:other:rate5m"]
    assert other and all(s["tests"] == [] for s in other)
    assert {s["operator"] for s in other} >= {"record-range", "function", "grouping"}


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rules, _ = _write(tmp_path)
    assert main(["mutate", str(rules)]) == 2
    assert "no promtool test files" in capsys.readouterr().err
    assert main(["mutate", "missing.yml"]) == 2
    assert main(["mutate", str(rules), "--jobs", "0"]) == 2
    (tmp_path / "bad.yml").write_text("groups: [\n")
    assert main(["mutate", "bad.yml", "busy.test.yml"]) == 2
    assert "bad.yml:" in capsys.readouterr().err


def test_timeout_is_reported_not_killed(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # No promtool starts, parses and evaluates within a millisecond, however fast the machine
    # (a slow test file plus 0.5s passed under load and failed on a quiet machine).
    _write(tmp_path)
    rc = main(["mutate", "rules.yml", "busy.test.yml", "--timeout", "0.001"])
    out = capsys.readouterr().out
    assert rc == 1
    assert ("busy.test.yml:1: error: mutate/timeout: the tests without any mutation: promtool did not "
            "finish within 0.001s") in out
    assert "killed" not in out.split("moncheck mutate:")[0]


def test_hints_put_last_runs_killer_first_and_never_change_a_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two groups that both kill the threshold x2 mutant: whichever kills it without hints,
    with a hint naming the other one, that other one does. Verdicts are the same either way, also with
    a hint naming no group at all, and the run's own hints name the killing group."""
    from moncheck.inventory import parse_rules
    from moncheck.mutate import hints
    from moncheck.mutate.mutants import file_mutants
    from moncheck.mutate.runner import Runner
    from moncheck.yamlpos import loads

    two = TEST.replace("tests:\n", "tests:\n" + TEST.split("tests:\n")[1].replace(
        "Busy fires above 1/s", "Busy fires, again"), 1)
    rules, test = _write(tmp_path, test=two)
    rf = parse_rules("rules.yml", loads(RULES, "rules.yml"))

    def run(h: hints.Hints | None) -> dict[str, tuple[str, tuple[int, int] | None]]:
        res = Runner(jobs=2, timeout=60).run([(rf, rules)], [(test, "busy.test.yml")], hints=h)
        return {f"{o.mutant.operator} {o.mutant.new}": (o.status, o.killer) for o in res.outcomes}

    plain = run(None)
    x2 = next(k for k in plain if k.endswith("> 2"))
    status, killer = plain[x2]
    assert status == "killed" and killer is not None
    other = 1 - killer[1]
    m = next(mm for mm in file_mutants(rf)[0] if mm.new.endswith("> 2"))
    names = ["Busy fires, again", "Busy fires above 1/s"]  # the copy comes first
    hinted = run({hints.key(m): ("busy.test.yml", names[other])})
    assert hinted[x2] == ("killed", (0, other))
    assert {k: v[0] for k, v in hinted.items()} == {k: v[0] for k, v in plain.items()}
    wrong = run({hints.key(m): ("busy.test.yml", "no such group")})
    assert wrong == plain
    res = Runner(jobs=2, timeout=60).run([(rf, rules)], [(test, "busy.test.yml")])
    assert res.hints[hints.key(m)] == ("busy.test.yml", names[killer[1]])


def test_mutate_keeps_hints_in_the_cache_and_survives_a_corrupt_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from moncheck.mutate import hints

    monkeypatch.setenv("MONCHECK_CACHE_DIR", str(tmp_path / "cache"))
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    _write(repo)
    path = hints.path_for(repo)
    assert path is not None and path.parent == tmp_path / "cache/mutate-hints"
    rc = main(["mutate", "rules.yml", "busy.test.yml", "--repo", str(repo)])
    first = capsys.readouterr().out
    saved = hints.load(path)
    assert rc == 1 and saved and set(saved.values()) == {("busy.test.yml", "Busy fires above 1/s")}
    path.write_bytes(b"\xff not json")
    rc = main(["mutate", "rules.yml", "busy.test.yml", "--repo", str(repo)])
    assert rc == 1 and capsys.readouterr().out.splitlines()[:-1] == first.splitlines()[:-1]
    assert hints.load(path) == saved
