"""Judging many mutants in one promtool group run through renamed copies (``mutate.rename``)
gives exactly the verdicts of running every mutant alone (real promtool, both ways)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from moncheck.inventory import parse_rules
from moncheck.mutate import rename, scope
from moncheck.mutate.mutants import Mutant, file_mutants
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
    ticket, one with a templated annotation), matchers and groupings the input cannot tell
    apart (``mutate.inert``), a group whose expression test reads a recorded
    series (run alone), a mutant that fails to evaluate (``on (job)`` dropped: duplicate series
    on one side) and a rule reading ALERTS (its test file's alert mutants run alone)."""
    for f in FIXTURES.iterdir():
        shutil.copy(f, tmp_path / f.name)
    batched, rb = _run(tmp_path, renaming=True)
    alone, ra = _run(tmp_path, renaming=False)
    assert batched == alone
    # every way was exercised: renamed batches, runs alone, groups left out by their input
    assert rb.pairs_renamed > 0 and rb.pairs_alone > 0 and rb.pairs_inert > 0
    assert ra.pairs_renamed == ra.pairs_inert == 0
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


SERIES = [("requests_total", {"job": "api", "code": "200"}), ("requests_total", {"job": "api", "code": "500"}),
          ("requests_total", {"job": "web", "code": "200"})]


@pytest.mark.parametrize(("original", "mutated", "expected"), [
    # a matcher every input series satisfies, removed: the same series
    ('sum(rate(requests_total{env!="dev"}[5m]))', "sum(rate(requests_total[5m]))", True),
    ('sum(rate(requests_total{env!="dev"}[5m]))', 'sum(rate(requests_total{env="dev"}[5m]))', False),
    ('sum(rate(requests_total{code=~"5.."}[5m]))', "sum(rate(requests_total[5m]))", False),
    ('sum(rate(requests_total{job=~"api|web"}[5m]))', "sum(rate(requests_total[5m]))", True),
    # a label no input series has, added to the grouping: the same output groups
    ("sum by (job) (rate(requests_total[5m]))", "sum by (job, instance) (rate(requests_total[5m]))", True),
    ("sum by (job) (rate(requests_total[5m]))", "sum by () (rate(requests_total[5m]))", False),
    # sum <-> avg: the same only when every output group has one series
    ('sum by (job) (rate(requests_total{code="500"}[5m]))', 'avg by (job) (rate(requests_total{code="500"}[5m]))', True),
    ("sum by (job) (rate(requests_total[5m]))", "avg by (job) (rate(requests_total[5m]))", False),
    # anything else goes to promtool: other functions, recorded series, ranges
    ("sum(rate(requests_total[5m]))", "sum(irate(requests_total[5m]))", False),
    # recorded series: their rules' fixed labels when the expression yields no other label
    ('max(job:x{slo="a"} > 0.5) without (window)', "max(job:x > 0.5) without (window)", False),
    ('max(job:x{slo="a", window="5m"} > 0.5) without (window)', 'max(job:x{window="5m"} > 0.5) without (window)', True),
    ('max(job:x{slo="a"} > 0.5) without (window)', 'max(job:x{slo="a"} > 0.5) without (window, instance)', True),
    ('max(job:x{slo="a"} > 0.5) without (window)', 'max(job:x{slo="a"} > 0.5) without ()', False),
    ('max(job:x{slo="a"} > 0.5) without (window)', 'min(job:x{slo="a"} > 0.5) without (window)', True),
    ("max(job:x > 0.5) without (window)", "min(job:x > 0.5) without (window)", True),  # one per slo
    ("max(job:x > 0.5) without (window, slo)", "min(job:x > 0.5) without (window, slo)", False),
    ('sum(job:y{slo="a"})', "sum(job:y)", False),  # job:y keeps job: its label sets are unknown
    ('sum(ALERTS{alertname="x"})', "sum(ALERTS)", False),
    ("sum(rate(requests_total[5m]))", "sum(rate(requests_total[10m]))", False),
    ('sum(rate(requests_total{job=~"a\\\\w+"}[5m]))', "sum(rate(requests_total[5m]))", False),
])
def test_inert_on_the_group_input(original: str, mutated: str, expected: bool) -> None:
    from moncheck.mutate import inert

    world = inert.universe(SERIES, inert.recorded_label_sets([
        ("job:x", 'sum(rate(requests_total{code="500"}[5m])) / sum(rate(requests_total[5m]))',
         {"slo": "a", "window": "5m"}),
        ("job:x", "sum(rate(requests_total[1h]))", {"slo": "b", "window": "1h"}),
        ("job:y", "sum by (job) (rate(requests_total[5m]))", {"slo": "a"}),
    ]))
    assert inert.inert(original, mutated, world) is expected


def test_input_series_of_a_recorded_name_make_it_unknown() -> None:
    from moncheck.mutate import inert

    recorded = inert.recorded_label_sets([("job:x", "sum(rate(r[5m]))", {"slo": "a"})])
    world = inert.universe([("job:x", {"slo": "b"})], recorded)
    assert world["job:x"] is None
    assert not inert.inert('sum(job:x{slo="a"})', "sum(job:x)", world)


def test_input_series_parsed_and_histograms_left_to_promtool() -> None:
    from moncheck.mutate import inert

    group = {"input_series": [{"series": 'up{job="a", instance=""}', "values": "1x3"}]}
    assert inert.input_series(group) == [("up", {"job": "a"})]
    hist = {"input_series": [{"series": "h", "values": "{{schema:0 sum:1 count:1}}x3"}]}
    assert inert.input_series(hist) is None


def _plan(tmp: Path, i: int, pick: Callable[[Mutant], bool], test: str = "a.test.yml") -> tuple[
        rename.Plan, Mutant, scope.TestFile, dict[Path, Any]]:
    """The fixture copied to ``tmp``; the first mutant ``pick`` keeps, planned as number ``i``
    against test file ``test``."""
    for f in FIXTURES.iterdir():
        shutil.copy(f, tmp / f.name)
    rf = parse_rules("rules.yml", load(tmp / "rules.yml", "rules.yml"))
    m = next(m for m in file_mutants(rf)[0] if pick(m))
    rule_data: dict[Path, Any] = {}
    tf = scope.load_test_file(tmp / test, test, rule_data)
    return rename.plan(tf, rule_data, i, m, (tmp / "rules.yml").resolve()), m, tf, rule_data


def test_only_the_changed_alert_of_a_name_is_copied(tmp_path: Path) -> None:
    """A ``for`` mutant of the page ErrorRatio leaves the ticket ErrorRatio as it was: only
    the page is copied, and only the expected alerts with ``severity: critical`` asserted."""
    p, m, tf, rule_data = _plan(tmp_path, 5, lambda m: m.rule.name == "ErrorRatio" and m.new == "no for")
    assert p.ok and p.split == (("ErrorRatio", "severity", frozenset({"critical"})),)
    files = rename.rule_data_for(tf, rule_data, [(p, m, (tmp_path / "rules.yml").resolve())])
    copies = [r for g in files[(tmp_path / "rules.yml").resolve()]["groups"] for r in g["rules"]
              if str(r.get("alert", "")).endswith("__mut5")]
    assert [(r["labels"]["severity"], "for" in r) for r in copies] == [("critical", False)]
    case = rename.group_for(tf.data["tests"][0], [p])["alert_rule_test"][1]
    assert case["alertname"] == "ErrorRatio__mut5"
    assert [a["exp_labels"]["severity"] for a in case["exp_alerts"]] == ["critical"]


def test_expression_tests_read_the_renamed_series(tmp_path: Path) -> None:
    """A recording-rule mutant is judged by a group's expression test through the renamed
    series (expected sample names renamed too); a group reading ALERTS is not renamed."""
    p, m, tf, rule_data = _plan(tmp_path, 3, lambda m: m.rule.name == "job:requests:rate5m"
                                and m.operator == "record-range")
    expr_group = tf.groups[1]
    assert rename.observable(p, expr_group, tf.data["tests"][1])
    test = rename.group_for(tf.data["tests"][1], [p])
    assert test["alert_rule_test"] == []
    assert [t["expr"] for t in test["promql_expr_test"]] == ["round(job:error_ratio:rate5m__mut3, 0.001)"]
    failure = '    expr: "round(job:error_ratio:rate5m__mut3, 0.001)", time: 10m,\n        exp: x\n        got: y\n'
    assert rename.verdicts(failure, {3}) == ({3}, False)
    samples = rename._renamed_samples([{"labels": 'job:error_ratio:rate5m{job="api"}', "value": 1}], p)
    assert samples == [{"labels": 'job:error_ratio:rate5m__mut3{job="api"}', "value": 1}]
    tb = scope.load_test_file(tmp_path / "b.test.yml", "b.test.yml", rule_data)
    pb = rename.plan(tb, rule_data, 3, m, (tmp_path / "rules.yml").resolve())
    assert not pb.ok and "ALERTS" in pb.why
