"""Judging many mutants in one promtool group run through renamed copies (``mutate.rename``)
gives exactly the verdicts of running every mutant alone (real promtool, both ways)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moncheck.inventory import parse_rules
from moncheck.mutate import rename
from moncheck.mutate.runner import KILLED, SURVIVED, Runner
from moncheck.tools import ToolMissing, find_binary
from moncheck.yamlpos import load

try:
    find_binary("promtool")
except ToolMissing as e:  # pragma: no cover - the CI and dev machines have it
    pytest.skip(str(e), allow_module_level=True)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mutate" / "rename"


def _run(tmp: Path, renaming: bool) -> tuple[list[tuple[str, str, str, str]], Runner]:
    rfs = [(parse_rules(n, load(tmp / n, n)), tmp / n) for n in ("rules.yml", "meta.yml")]
    runner = Runner(jobs=2, timeout=60, renaming=renaming)
    res = runner.run(rfs, [(tmp / n, n) for n in ("a.test.yml", "b.test.yml")])
    assert not res.baseline_failures
    return [(o.mutant.rule.name, o.mutant.operator, o.mutant.new, o.status) for o in res.outcomes], runner


def test_renamed_batches_give_the_verdicts_of_one_mutant_per_run(tmp_path: Path) -> None:
    """The fixture has a recording-rule chain read by two alerts that share a name (page and
    ticket, one with a templated annotation), a group whose expression test reads a recorded
    series (run alone), a mutant that fails to evaluate (``on (job)`` dropped: duplicate series
    on one side) and a rule reading ALERTS (its test file's alert mutants run alone)."""
    for f in FIXTURES.iterdir():
        shutil.copy(f, tmp_path / f.name)
    batched, rb = _run(tmp_path, renaming=True)
    alone, ra = _run(tmp_path, renaming=False)
    assert batched == alone
    assert rb.pairs_renamed > 0 and rb.pairs_alone > 0  # both ways were exercised
    assert ra.pairs_renamed == 0
    status = {(r, op, new): s for r, op, new, s in batched}
    assert status[("job:error_ratio:rate5m", "grouping", "job:errors:rate5m / on () job:requests:rate5m")] == KILLED
    assert status[("ErrorRatio", "threshold", 'job:error_ratio:rate5m{job="api"} > 0.5')] == KILLED
    assert status[("ErrorRatio", "threshold", 'job:error_ratio:rate5m{job="api"} > 0.125')] == SURVIVED
    assert {s for *_, s in batched} == {KILLED, SURVIVED}


def test_verdicts_map_failures_to_mutants() -> None:
    one = rename.renamed("Busy", 3)
    alert = f"    alertname: {one}, time: 10m, \n        exp:[],\n        got:[]\n"
    assert rename.verdicts(alert, {3, 4}) == ({3}, False)
    err = f"    rule: {rename.renamed('job:x', 4)}, time: 3m0s, err: many-to-many matching\n"
    assert rename.verdicts(alert + "\n" + err, {3, 4}) == ({3, 4}, True)
    # a failure of an original (unrenamed) alert or of another batch: nothing concluded
    assert rename.verdicts("    alertname: Busy, time: 10m, \n        exp:[],\n        got:[]\n", {3}) is None
    assert rename.verdicts(alert, {4}) is None


def test_rename_expr_renames_only_the_named_selectors() -> None:
    got = rename.rename_expr('a:b{x="1"} / on (x) rate(c[5m]) > 2', frozenset({"a:b", "c"}), 7)
    assert got == 'a:b__mut7{x="1"} / on (x) rate(c__mut7[5m]) > 2'
