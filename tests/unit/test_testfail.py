"""promtool test failures: attributed to their group, first difference, never cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moncheck.cli import main
from moncheck.tools import ToolMissing, find_binary, testfail
from moncheck.tools import promtool as pt

RULES = """\
groups:
  - name: g
    rules:
      - record: job:x:rate5m
        expr: sum by (job) (rate(x_total[5m]))
      - alert: Busy
        expr: job:x:rate5m > 1
        labels: {severity: critical}
        annotations: {summary: "LONG {{ $value }}"}
"""

TEST = """\
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - name: Busy fires with its labels
    interval: 1m
    input_series:
      - series: 'x_total{job="api", instance="a"}'
        values: '0+120x20'
    alert_rule_test:
      - eval_time: 10m
        alertname: Busy
        exp_alerts:
          - exp_labels: {job: api, severity: warning}
            exp_annotations: {summary: "LONG 2"}
  - name: the recorded rate
    interval: 1m
    input_series:
      - series: 'x_total{job="api", instance="a"}'
        values: '0+120x20'
    promql_expr_test:
      - expr: job:x:rate5m
        eval_time: 10m
        exp_samples:
          - labels: 'job:x:rate5m{job="api"}'
            value: 3
"""

# promtool 2.42's output for a sum of non-binary-fraction rates (issue 8's flake), verbatim
FLAKE = """\
Unit Testing:  flake.test.yml
  FAILED:
    expr: "job:x:rate5m", time: 10m,
        exp: {__name__="job:x:rate5m", job="api"} 3E+00
        got: {__name__="job:x:rate5m", job="api"} 3.0000000000000004E+00

"""


def test_entries_and_first_difference() -> None:
    text = pt.failure_text(FLAKE)
    [e] = testfail.entries(text)
    assert (e.group, e.kind, e.what, e.time) == (None, "expr", "job:x:rate5m", "10m")
    assert testfail.first_difference(e) == (
        'expr job:x:rate5m at 10m: value of {__name__="job:x:rate5m", job="api"}: expected 3E+00, '
        "got 3.0000000000000004E+00")


ALERTS = """\
    name: g1,
    alertname: A, time: 5m,
        exp:[
            0:
              Labels:{alertname="A", job="a", note="x}y", severity="warning"}
              Annotations:{summary="v 2"},
            1:
              Labels:{alertname="A", job="c", severity="critical"}
              Annotations:{}
            ],
        got:[
            0:
              Labels:{alertname="A", job="a", note="x}y", severity="warning"}
              Annotations:{summary="v 3"}
            ]
"""


@pytest.mark.parametrize(("text", "expected"), [
    (ALERTS, 'alert A at 5m: alert 1: annotation summary: expected "v 2", got "v 3"'),
    (ALERTS.replace('summary="v 3"', 'summary="v 2"'),
     'alert A at 5m: expected 2 alerts, got 1; missing {alertname="A", job="c", severity="critical"}'),
    (ALERTS.replace('"x}y", severity="warning"}\n              Annotations:{summary="v 3"}',
                    '"x}y", severity="high"}\n              Annotations:{summary="v 3"}'),
     'alert A at 5m: alert 1: label severity: expected "warning", got "high"'),
    ('expr: "up", time: 1m,\n    exp: nil\n    got: {__name__="up", job="a"} 1E+00',
     'expr up at 1m: expected 0 samples, got 1; unexpected {__name__="up", job="a"}'),
], ids=["annotation", "missing-alert", "label-with-brace-in-a-value", "unexpected-sample"])
def test_first_difference(text: str, expected: str) -> None:
    [e] = testfail.entries(text)
    assert testfail.first_difference(e) == expected


def test_candidates_by_name_then_by_case() -> None:
    groups = [("g1", {"alert_rule_test": [{"alertname": "A", "eval_time": "5m"}]}),
              ("g2", {"promql_expr_test": [{"expr": "up", "eval_time": "60s"}]}),
              ("g3", {"promql_expr_test": [{"expr": "up", "eval_time": "2m"}]})]
    [a] = testfail.entries(ALERTS)
    assert testfail.candidates(a, groups) == [0]
    [e] = testfail.entries('expr: "up", time: 1m,\n    exp: nil\n    got: nil')
    assert testfail.candidates(e, groups) == [1]  # 1m == 60s




def _promtool() -> None:
    try:
        find_binary("promtool")
    except ToolMissing as e:
        pytest.skip(str(e))


def _files(tmp_path: Path, long: int = 0) -> Path:
    (tmp_path / "rules.yml").write_text(RULES.replace("LONG", "L" * long))
    t = tmp_path / "busy.test.yml"
    t.write_text(TEST.replace("LONG", "L" * long))
    return t


def test_findings_at_group_lines_never_cut(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _promtool()
    _files(tmp_path, long=600)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "rules.yml", "busy.test.yml", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    got = {f["line"]: f["message"] for f in doc["findings"] if f["check"] == "promtool/test-rules"}
    assert sorted(got) == [4, 15]
    assert got[4].startswith('test group "Busy fires with its labels" failed: alert Busy at 10m: alert 1: '
                             'label severity: expected "warning", got "critical"\n')
    assert got[4].count("L" * 600 + " 2") == 2  # expected and got annotations, whole (> 400 chars)
    assert got[15].splitlines()[0] == (
        'test group "the recorded rate" failed: expr job:x:rate5m at 10m: value of '
        '{__name__="job:x:rate5m", job="api"}: expected 3E+00, got 2E+00')
    assert main(["check", "rules.yml", "busy.test.yml", "--format", "github"]) == 1
    gh = [x for x in capsys.readouterr().out.splitlines() if "promtool/test-rules" in x]
    assert gh[0].startswith("::error file=busy.test.yml,line=4,title=promtool/test-rules::test group "
                            '"Busy fires with its labels" failed: alert Busy at 10m')
    assert "%0A" in gh[0] and "L" * 600 in gh[0]


def test_failure_attributed_from_the_whole_file_output(tmp_path: Path) -> None:
    """The whole-file run failed (output given; the file passes now, as a flaky one does): the
    entry names a case of exactly one group, so the finding is at that group without a re-run."""
    _promtool()
    t = _files(tmp_path)
    t.write_text(TEST.replace("severity: warning", "severity: critical").replace("value: 3", "value: 2"))
    f = pt.file_failure(t, "flake.test.yml", FLAKE)
    assert f.file_level == []
    assert f.messages == {1: (
        'test group "the recorded rate" failed: expr job:x:rate5m at 10m: value of '
        '{__name__="job:x:rate5m", job="api"}: expected 3E+00, got 3.0000000000000004E+00\n'
        '    expr: "job:x:rate5m", time: 10m,\n'
        '        exp: {__name__="job:x:rate5m", job="api"} 3E+00\n'
        '        got: {__name__="job:x:rate5m", job="api"} 3.0000000000000004E+00')}


def test_ambiguous_flaky_failure_says_so(tmp_path: Path) -> None:
    """Two groups hold the same case; re-run alone both pass: the first candidate gets the
    finding, marked flaky (never line 1 of the file)."""
    _promtool()
    t = _files(tmp_path)
    fixed = TEST.replace("LONG", "").replace("severity: warning", "severity: critical").replace("value: 3", "value: 2")
    second = fixed[fixed.index("  - name: the recorded rate"):].replace("the recorded rate", "the same rate again")
    t.write_text(fixed + second)
    f = pt.file_failure(t, "flake.test.yml", FLAKE)
    assert list(f.messages) == [1]
    assert f.messages[1].endswith(" (it passed when its group was re-run alone: the expectation is flaky)")
    assert f.messages[1].startswith('test group "the recorded rate" failed: expr job:x:rate5m at 10m')
