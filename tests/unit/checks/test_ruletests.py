"""tests/exact-float: exact comparisons of sums of inexact rates in promtool tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck.checks import ruletests
from moncheck.checks.base import Context
from moncheck.inventory import load_paths
from moncheck.policy import from_data

RULES = """\
groups:
  - name: g
    rules:
      - record: job:req:rate5m
        expr: sum by (job) (rate(req_total[5m]))
      - record: job_route:req:rate5m
        expr: sum by (job, route) (rate(req_total[5m]))
"""

TEST = """\
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - name: rates
    interval: 1m
    input_series:
      - series: 'req_total{job="a", route="/x", instance="1"}'
        values: 'A'
      - series: 'req_total{job="a", route="/y", instance="1"}'
        values: 'B'
    promql_expr_test:
      - expr: EXPR
        eval_time: 30m
        exp_samples:
          - labels: 'job:req:rate5m{job="a"}'
            value: 0.5
"""


def run(tmp_path: Path, a: str, b: str, expr: str = "job:req:rate5m") -> list[str]:
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "t.test.yml").write_text(TEST.replace("'A'", repr(a)).replace("'B'", repr(b)).replace("EXPR", expr))
    inv = load_paths([tmp_path / "rules.yml", tmp_path / "t.test.yml"], tmp_path)
    return [f.text() for f in ruletests.tests_exact_float(Context(inv, from_data(None, None)))]


def test_flags_a_sum_of_thirds(tmp_path: Path) -> None:
    assert run(tmp_path, "0+20x40", "0+10x40") == [(
        f"t.test.yml:14: warning: {ruletests.EXACT_FLOAT}: expression 'job:req:rate5m' at 30m sums the rates of 2 "
        "series of req_total that are not binary fractions: the float result depends on the order of "
        "the additions and may differ from exp_samples in its last digit from run to run (hint: choose "
        "input series whose per-second rates are binary fractions (1.5, 0.25: e.g. increments of 15 or "
        "90 per 1m), or compare a rounded expression (round(expr, 0.001)))")]


@pytest.mark.parametrize(("a", "b", "expr"), [
    ("0+15x40", "0+15x40", "job:req:rate5m"),                 # 0.25 + 0.25: exact
    ("0+20x40", "0x40", "job:req:rate5m"),                    # adding an exact 0
    ("0+20x40", "0+10x40", "round(job:req:rate5m, 0.001)"),   # rounded
    ("0+20x40", "0+10x40", "job_route:req:rate5m"),           # one series per route
    ("0+20x10 200x30", "0+10x10 100x30", "job:req:rate5m"),   # the changes are outside the window
    ("0+20x40", "0+10x40", 'job:req:rate5m{job="b"}'),        # the compared series has no input
], ids=["binary-fractions", "plus-zero", "rounded", "grouped-apart", "outside-window", "filtered-out"])
def test_silent(tmp_path: Path, a: str, b: str, expr: str) -> None:
    assert run(tmp_path, a, b, expr) == []


def test_series_notation_is_read_run_by_run() -> None:
    from fractions import Fraction as F

    s = ruletests._expand("_x2 1+0.5x3 stale 7")
    assert s is not None and s.size == 3 + 4 + 1 + 1
    assert s.window(0, 99) == [F(1), F(3, 2), F(2), F(5, 2), F(7)]
    assert s.window(4, 8) == [F(3, 2), F(2), F(5, 2), F(7)]  # indices 4-6 of the run, 7 stale, 8
    assert s.window(0, 2) == []  # the missing run
    assert ruletests._expand("1+ax3") is None and ruletests._expand("0+1x200000") is None
