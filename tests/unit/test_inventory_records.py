"""Typed records the inventory hands to every reader (file and line on each)."""

from __future__ import annotations

from pathlib import Path

from moncheck import alertmanager as am
from moncheck.inventory import AlertTest, load_repo


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


RULES = """\
groups:
  - name: empty
    rules: []
  - name: g
    rules:
      - alert: A
        expr: up == 0
      - record: job:up:sum
        expr: sum by (job) (up)
"""
TESTS = """\
rule_files: [../../monitoring/prometheus/rules/r.yml]
tests:
  - name: A fires
    alert_rule_test:
      - {alertname: A, eval_time: 1m, exp_alerts: [{exp_labels: {}}]}
      - {alertname: A, eval_time: 0m}
  - alert_rule_test: [{alertname: B, eval_time: 1m}]
"""
AM = "route: {receiver: a}\nreceivers: [{name: a}]\n"


def test_rule_groups_rule_tests_and_alertmanager_records(tmp_path: Path) -> None:
    inv = load_repo(_repo(tmp_path, {
        "monitoring/prometheus/rules/r.yml": RULES,
        "tests/rules/r.test.yml": TESTS,
        "monitoring/alertmanager/alertmanager.yml": AM,
        "monitoring/alertmanager/routing-tests.yml": "tests:\n  - {name: t, labels: {a: b}, receivers: [a]}\n",
    }))
    (rf,) = inv.rule_files
    assert [(g.name, g.line, [r.name for r in g.rules]) for g in rf.groups] == [("empty", 2, []), ("g", 4, ["A", "job:up:sum"])]
    (rt,) = inv.rule_tests
    assert rt.rule_files == ["../../monitoring/prometheus/rules/r.yml"]
    assert [(g.name, g.line) for g in rt.groups] == [("A fires", 3), (None, 7)]
    assert rt.groups[0].alert_tests == [AlertTest("A", 5, True), AlertTest("A", 6, False)]
    assert inv.alertmanager is not None and isinstance(inv.alertmanager.config, am.Config)
    assert inv.alertmanager.config.receivers_for({}) == ["a"]
    assert inv.routing_tests is not None and inv.routing_tests.cases == [am.RouteCase("t", 2, {"a": "b"}, ["a"])]


def test_a_config_that_does_not_load_keeps_its_error(tmp_path: Path) -> None:
    inv = load_repo(_repo(tmp_path, {"monitoring/alertmanager/alertmanager.yml": "route: {receiver: nobody}\nreceivers: []\n",
                                     "monitoring/alertmanager/routing-tests.yml": "- {name: t}\n"}))
    assert inv.alertmanager is not None and inv.alertmanager.config is None
    assert inv.alertmanager.error is not None and (inv.alertmanager.error.line, inv.alertmanager.error.message) == (
        1, "undefined receiver 'nobody' used in route")
    assert inv.routing_tests is not None and inv.routing_tests.error is not None and inv.routing_tests.error.line == 1


def test_a_multi_document_openslo_spec_loads_and_every_document_is_validated(tmp_path: Path) -> None:
    from moncheck.checks.base import Context
    from moncheck.checks.misc import schema_slo
    from moncheck.policy import Policy

    root = Path(__file__).resolve().parents[2]
    text = (root / "tests/fixtures/slo/good/openslo.yml").read_text()
    broken = text.replace("kind: SLO", "kind: Slo")  # both documents
    inv = load_repo(_repo(tmp_path, {"monitoring/slos/good.yml": text, "monitoring/slos/bad.yml": broken}))
    assert inv.load_findings == []
    assert [(d.path, len(d.documents)) for d in inv.slos] == [("monitoring/slos/bad.yml", 2), ("monitoring/slos/good.yml", 2)]
    found = schema_slo(Context(inv, Policy()))
    assert {(f.check, f.path) for f in found} == {("schema/slo", "monitoring/slos/bad.yml")} and len(found) == 2


def test_slo_code_reads_the_inventorys_spec_files(tmp_path: Path) -> None:
    """A repository whose moncheck.yml keeps SLO specs elsewhere: validation follows the
    inventory (loaded once), and a spec that does not load is an slo/spec finding at its line."""
    from moncheck import slo

    root = Path(__file__).resolve().parents[2]
    repo = _repo(tmp_path, {
        "moncheck.yml": "version: 1\nslos: ['specs/*.yml']\ncatalog: monitoring/catalog/metrics.yml\n",
        "monitoring/catalog/metrics.yml": (root / "monitoring/catalog/metrics.yml").read_text(),
        "specs/api.yml": (root / "tests/fixtures/slo/good/api.yml").read_text(),
        "specs/broken.yml": "version: prometheus/v1\nslos: [\n",
    })
    inv = load_repo(repo)
    specs, findings = slo.load_specs(repo, inv)
    assert [s.path for s in specs] == ["specs/api.yml"] and specs[0].slos
    assert [(f.check, f.path, f.line) for f in findings] == [("slo/spec", "specs/broken.yml", 3)]
    assert [(f.check, f.path) for f in slo.validate(repo, inv)] == [("slo/spec", "specs/broken.yml")]
