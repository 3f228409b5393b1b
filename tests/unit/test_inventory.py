from __future__ import annotations

from pathlib import Path

import pytest

from moncheck.jsonpos import loads
from moncheck.inventory import load_paths, load_repo
from moncheck.yamlpos import LoadError

RULES = """\
groups:
  - name: g
    rules:
      - record: job:x:rate5m
        expr: sum by (job) (rate(x_total[5m]))
      - alert: XHigh
        expr: job:x:rate5m > 1
        for: 5m
        labels: {severity: warning, team: a}
        annotations:
          summary: s
"""


def test_load_repo_records_have_lines(tmp_path: Path) -> None:
    (tmp_path / "monitoring/prometheus/rules").mkdir(parents=True)
    (tmp_path / "monitoring/prometheus/rules/a.yml").write_text(RULES)
    (tmp_path / "monitoring/runbooks").mkdir()
    (tmp_path / "monitoring/runbooks/XHigh.md").write_text("# XHigh\n")
    (tmp_path / "monitoring/grafana/dashboards").mkdir(parents=True)
    (tmp_path / "monitoring/grafana/dashboards/d.json").write_text(
        '{"uid": "u",\n "title": "t",\n "panels": [\n  {"type": "stat", "title": "p",\n   "targets": [\n'
        '    {"refId": "A",\n     "expr": "up"}]}]}\n')
    inv = load_repo(tmp_path)
    assert inv.load_findings == []
    rec, al = inv.rules
    assert (rec.kind, rec.name, rec.line, rec.expr_line) == ("record", "job:x:rate5m", 4, 5)
    assert (al.kind, al.name, al.line_of("for"), al.label_lines["severity"], al.annotation_lines["summary"]) == (
        "alert", "XHigh", 8, 9, 11)
    assert inv.runbooks == {"monitoring/runbooks/XHigh.md"}
    (d,) = inv.dashboards
    assert (d.uid, d.line, d.panels[0].line, d.panels[0].targets[0].line) == ("u", 1, 4, 7)


def test_load_errors_become_findings(tmp_path: Path) -> None:
    (tmp_path / "monitoring/prometheus/rules").mkdir(parents=True)
    (tmp_path / "monitoring/prometheus/rules/bad.yml").write_text("groups:\n  - name: [\n")
    (tmp_path / "monitoring/grafana/dashboards").mkdir(parents=True)
    (tmp_path / "monitoring/grafana/dashboards/d.json").write_text("{\n  nope\n}")
    inv = load_repo(tmp_path)
    assert sorted((f.check, f.path, f.line) for f in inv.load_findings) == [
        ("schema/json", "monitoring/grafana/dashboards/d.json", 2),
        ("schema/yaml", "monitoring/prometheus/rules/bad.yml", 3),
    ]


KIND_CASES = [
    ("rules", "a.yml", RULES, "rule_files"),
    ("rule-test", "t.test.yml", "rule_files: [a.yml]\ntests: []\n", "rule_tests"),
    ("alertmanager", "am.yml", "route: {receiver: x}\nreceivers: [{name: x}]\n", "alertmanager"),
    ("prometheus", "p.yml", "global: {}\nscrape_configs: []\n", "prometheus"),
    ("catalog", "m.yml", "metrics: []\n", "catalog"),
    ("routing-tests", "rt.yml", "- {name: a, labels: {a: b}, receivers: [x]}\n", "routing_tests"),
]


@pytest.mark.parametrize("name,text,attr", [c[1:] for c in KIND_CASES], ids=[c[0] for c in KIND_CASES])
def test_load_paths_detects_kind(tmp_path: Path, name: str, text: str, attr: str) -> None:
    (tmp_path / name).write_text(text)
    inv = load_paths([Path(name)], tmp_path)
    assert inv.mode == "loose" and inv.load_findings == []
    assert getattr(inv, attr)


def test_load_paths_missing_file(tmp_path: Path) -> None:
    inv = load_paths([Path("nope.yml")], tmp_path)
    assert [(f.check, f.path) for f in inv.load_findings] == [("schema/yaml", "nope.yml")]


def test_jsonpos_lines() -> None:
    d = loads('{\n "a": [\n  {"b": 1},\n  {"c": {"d": 2}}\n ],\n "e": "x\\"y"\n}')
    assert (d.line, d.key_lines, d["a"][1].line, d["a"][1]["c"].line) == (1, {"a": 2, "e": 6}, 4, 4)
    with pytest.raises(LoadError) as e:
        loads("{\n\n  1\n}", "f.json")
    assert e.value.line == 3


def test_jsonpos_key_lines_of_nested_objects_only_their_own() -> None:
    text = '{\n "a": {\n  "b": 1,\n  "c": {"b": "x:{"}\n },\n "b": [\n  {"k": "\\"}"}\n ]\n}\n'
    d = loads(text)
    assert d.key_lines == {"a": 2, "b": 6}
    assert d["a"].key_lines == {"b": 3, "c": 4}
    assert d["a"]["c"].key_lines == {"b": 4}
    assert d["b"][0].key_lines == {"k": 7}
