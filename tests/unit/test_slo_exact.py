"""The threshold-equality cases of generated SLO tests (``>`` -> ``>=``) and the float
emulation they rest on, checked against real promtool."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
import yaml

from moncheck import toolchain
from moncheck.slo import exact, promfloat, synth, testgen
from moncheck.slo import scenarios as scen
from moncheck.slo.rules import alert_rules, windows_of
from moncheck.slo.spec import load_file
from test_slo_scenarios import _SELECTOR_SPEC


def _counters() -> list[tuple[int, list[float]]]:
    """(first minute, samples) of counters of several kinds: from 0 with whole increments of
    several sizes, one that starts late (at 0), one that stops early, one with fractions."""
    rnd = random.Random(8)
    out = []
    for step in (1, 7, 123457, 2**30 + 17, 3**19):
        v, vals = 0.0, [0.0]
        for _ in range(400):
            v += step * rnd.choice((0, 0, 1, 2, 5))
            vals.append(v)
        out.append((0, vals))
    out.append((37, [0.0 + 1000 * i for i in range(300)]))
    out.append((0, [float(5 * i) for i in range(201)]))
    v, frac = 0.0, [0.0]
    for _ in range(400):
        v += rnd.random() * 1e4
        frac.append(v)
    out.append((0, frac))
    return out


@pytest.mark.parametrize("chain", ["3", "2"])
def test_promfloat_is_what_promtool_computes(tmp_path: Path, chain: str) -> None:
    """rate, increase and irate of counters (also one that starts late and one that stops)
    and a ratio of two-series sums: promtool's value equals the emulation's to the last bit
    (``==`` in PromQL), and where the emulation has no value promtool has none either."""
    tool = toolchain.find_in("promtool", chain)
    if tool is None:
        pytest.skip(f"toolchain {chain} has no promtool")
    version = toolchain.major("promtool", chain)
    series = _counters()
    rnd = random.Random(3)
    tests, seen = [], 0
    for i, (start, vals) in enumerate(series):
        end = start + len(vals) - 1
        cum = promfloat_samples(start, vals)
        for w in (2, 5, 30, 60, 120, 360):
            for fn in ("rate", "increase", "irate"):
                t = rnd.choice((rnd.randint(1, 400), w + 1, start + 1, end + 3))
                got = promfloat.counter_fn(cum, t, w, fn, version, start, end)
                expr = f"{fn}(c{i}[{w}m])"
                tests.append(_expect(expr, t, got))
                seen += got is not None
    for w in (5, 30):
        t = 300
        pairs = [(promfloat.counter_fn(promfloat_samples(*series[k]), t, w, "rate", version,
                                       series[k][0], series[k][0] + len(series[k][1]) - 1))
                 for k in (0, 1, 2, 3)]
        assert all(v is not None for v in pairs)
        a, b, c, d = (float(v) for v in pairs if v is not None)
        ratio = promfloat.vsum([a, b]) / promfloat.vsum([c, d])
        tests.append(_expect(f'sum(rate({{__name__=~"c0|c1"}}[{w}m])) / '
                             f'sum(rate({{__name__=~"c2|c3"}}[{w}m]))', t, ratio))
    assert seen > 100  # most cases have a value: the comparison is not vacuous
    doc = {"rule_files": [], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": f'c{i}{{id="{i}"}}',
                          "values": " ".join(([f"_x{start}"] if start else [])
                                             + [repr(v) for v in vals])}
                         for i, (start, vals) in enumerate(series)],
        "promql_expr_test": tests}]}
    (tmp_path / "t.yml").write_text(yaml.safe_dump(doc))
    r = subprocess.run([tool, "test", "rules", "t.yml"], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, (r.stdout + r.stderr)[:4000]


def promfloat_samples(start: int, vals: list[float]) -> dict[int, float]:
    return {start + k: v for k, v in enumerate(vals)}


def _expect(expr: str, t: int, value: float | None) -> dict:
    if value is None:
        return {"expr": expr, "eval_time": f"{t}m", "exp_samples": []}
    return {"expr": f"count({expr} == {value!r})", "eval_time": f"{t}m",
            "exp_samples": [{"labels": "{}", "value": 1}]}


@pytest.mark.parametrize("objective", [99.9, 99.5, 99, 95])
def test_every_burn_condition_gets_a_case_at_its_threshold(tmp_path: Path,
                                                           objective: float) -> None:
    """For SLIs of three forms (a label split, a histogram difference, increase) and several
    objectives: every one of the 8 burn conditions gets a case, its ratio is the threshold to
    the last bit in both range conventions at the case's minute, and its alert is not
    expected to fire at the check."""
    p = tmp_path / "s.yml"
    p.write_text(_SELECTOR_SPEC.format(objective=objective))
    spec, errs = load_file(p, "s.yml")
    assert errs == [] and spec is not None
    for slo in spec.slos:
        work, why = synth.synthesise(slo, None)
        assert work is not None, why
        alerts = testgen.model_alerts(slo, alert_rules(slo, windows_of(slo)), work)
        reads = testgen.exact_reads(slo, work)
        assert reads is not None
        got, missing = exact.cases(alerts, reads, scen.base_traffic(alerts))
        assert missing == [], (slo.name, missing)
        assert sorted((c.severity, c.window) for c in got) == [
            ("page", 5), ("page", 30), ("page", 60), ("page", 360),
            ("ticket", 120), ("ticket", 360), ("ticket", 1440), ("ticket", 4320)]
        conds = {(a.severity, int(cc.ratio.window)): cc for a in alerts for pr in a.pairs
                 for cc in (pr.short, pr.long) if cc is not None}
        for c in got:
            x = conds[(c.severity, c.window)]
            tracks = tuple(tr for pair in zip(c.old, c.new) for tr in pair)
            for v in (2, 3):
                assert exact._ratio(x, reads, tracks, c.at, v) == x.threshold
            assert c.severity not in c.firing and c.check >= c.at
            assert c.at % c.interval == 0 and c.check % c.interval == 0


def test_an_sli_the_emulation_cannot_follow_names_its_untested_conditions(
        tmp_path: Path) -> None:
    """An SLI side that is not a sum of rate terms (here scaled by 1) gets no case: each
    condition is reported by name, with the generator's other untested mutants."""
    p = tmp_path / "s.yml"
    p.write_text(_SELECTOR_SPEC.format(objective=99.9).replace(
        'code=~"5.."}[{{.window}}]))', 'code=~"5.."}[{{.window}}])) * 1', 1))
    spec, errs = load_file(p, "s.yml")
    assert errs == [] and spec is not None
    slo = spec.slos[0]
    work, _ = synth.synthesise(slo, None)
    assert testgen.exact_reads(slo, work) is None
    alerts = testgen.model_alerts(slo, alert_rules(slo, windows_of(slo)), work)
    got, missing = exact.cases(alerts, None, scen.base_traffic(alerts))
    assert got == [] and missing[0] == (
        "page: 5m condition > -> >= (the ratio exactly at its threshold)") and len(missing) == 8
