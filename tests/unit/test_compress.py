"""Time compression: table tests of expressions, rule files and configs; output checked by promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from moncheck import toolchain, yamlpos
from moncheck.drills import compress as cz
from moncheck.drills.promql_print import format_duration

EXPRS = [
    ("rate", "rate(x[5m]) > 0.1", 20, "rate(x[15s]) > 0.1"),
    ("offset", "rate(x[5m] offset 1m)", 20, "rate(x[15s] offset 3s)"),
    ("negative-offset", "x offset -10m", 20, "x offset -30s"),
    ("subquery", "max_over_time(rate(x[2m])[10m:30s])", 20, "max_over_time(rate(x[6s])[30s:1s500ms])"),
    ("subquery-default-step", "max_over_time(x[10m:])", 20, "max_over_time(x[30s:750ms])"),
    ("milliseconds", "rate(x[1m])", 40, "rate(x[1s500ms])"),
    ("aggregation", "sum by (job) (rate(x{a=~\"5..\"}[5m]))", 10, "sum by (job) (rate(x{a=~\"5..\"}[30s]))"),
    ("histogram", "histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m]))) > 1", 60,
     "histogram_quantile(0.95, sum by (le) (rate(h_bucket[5s]))) > 1"),
    ("binary-modifiers", "a / ignoring (x) group_left (y) rate(b[1h])", 60, "a / ignoring (x) group_left (y) rate(b[1m])"),
    ("on-empty", "x and on () vector(1)", 60, "x and on () vector(1)"),
    ("topk-param", "topk(3, rate(x[1m]))", 2, "topk (3, rate(x[30s]))"),
    ("at-start", "x[5m] @ start()", 5, "x[1m] @ start()"),
    ("no-durations", "up == 0", 30, "up == 0"),
]


@pytest.fixture
def ctx() -> cz._Ctx:
    c = cz._Ctx(20, "r.yml", 15_000, 15_000)
    c.eval_ms = 750  # compressed global evaluation interval (default subquery step)
    return c


@pytest.mark.parametrize("expr,speed,want", [e[1:] for e in EXPRS], ids=[e[0] for e in EXPRS])
def test_compress_expr(expr: str, speed: float, want: str) -> None:
    c = cz._Ctx(speed, "r.yml", 15_000, 15_000)
    c.eval_ms = round(15_000 / speed)
    assert cz.compress_expr(expr, c, 1, "R") == want
    assert not c.problems


REFUSED = [
    ("rate-one-scrape", "rate(x[20s])", 10, "holds fewer than 2 scrapes of 15s"),
    ("below-1ms", "x offset 10ms", 20, "below 1ms"),
    ("parse-error", "rate(x[5m]", 2, "cannot parse expression"),
]


@pytest.mark.parametrize("expr,speed,msg", [e[1:] for e in REFUSED], ids=[e[0] for e in REFUSED])
def test_refused(expr: str, speed: float, msg: str) -> None:
    c = cz._Ctx(speed, "rules/x.yml", 15_000, 15_000)
    assert cz.compress_expr(expr, c, 7, "MyAlert") is None
    assert any(msg in p.message and p.line == 7 and "MyAlert" in p.message for p in c.problems), c.problems


CAVEATS = [("increase", "increase(x[5m]) > 5", "increase()"), ("time", "time() - x > 60", "time()"),
           ("process-start", "process_start_time_seconds < 1", "process_start_time_seconds")]


@pytest.mark.parametrize("expr,word", [c[1:] for c in CAVEATS], ids=[c[0] for c in CAVEATS])
def test_caveats(ctx: cz._Ctx, expr: str, word: str) -> None:
    assert cz.compress_expr(expr, ctx, 1, "R") is not None
    assert any(word in c.message for c in ctx.caveats)


@pytest.mark.parametrize("ms,text", [(0, "0s"), (1, "1ms"), (1500, "1s500ms"), (90_000, "1m30s"),
                                      (-300_000, "-5m"), (86_400_000 * 8, "1w1d")],
                         ids=["zero", "1ms", "ms", "compound", "negative", "weeks"])
def test_format_duration(ms: int, text: str) -> None:
    assert format_duration(ms) == text
    if ms > 0:
        assert cz.parse_duration_ms(text) == ms


RULES = """\
groups:
  - name: g
    interval: 30s
    rules:
      - record: job:x:rate5m
        expr: sum by (job) (rate(x[5m]))
      - alert: A
        expr: job:x:rate5m > 1 and max_over_time(y[10m:1m] offset 1m) > 0
        for: 10m
        keep_firing_for: 2m
        labels: {severity: warning}
"""


def test_compress_rules_file(tmp_path: Path) -> None:
    doc = yamlpos.loads(RULES, "rules.yml")
    res = cz.compress_rules(doc, 30, "rules.yml", 15_000, 15_000)
    assert not res.problems
    g = res.data["groups"][0]
    assert g["interval"] == "1s"
    assert g["rules"][0]["expr"] == "sum by (job) (rate(x[10s]))"
    assert g["rules"][1]["for"] == "20s" and g["rules"][1]["keep_firing_for"] == "4s"
    assert g["rules"][1]["expr"] == "job:x:rate5m > 1 and max_over_time(y[20s:2s] offset 2s) > 0"
    assert g["rules"][1]["labels"] == {"severity": "warning"}
    out = tmp_path / "out.yml"
    out.write_text(yaml.safe_dump(res.data))
    if promtool := toolchain.find("promtool"):
        r = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_group_interval_floor_refused() -> None:
    doc = yamlpos.loads(RULES, "rules.yml")
    res = cz.compress_rules(doc, 200, "rules.yml", 15_000, 15_000)
    assert any(p.line == 3 and "evaluation floor" in p.message for p in res.problems)


def test_prometheus_speed_floor_names_line() -> None:
    cfg = yamlpos.loads("global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n", "prometheus.yml")
    ok = cz.compress_prometheus(cfg, 60, "prometheus.yml")
    assert not ok.problems and ok.data["global"]["scrape_interval"] == "250ms"
    # As long as the compressed interval (the widest allowed): a loaded machine answers slower
    # than 10s/60, and failed scrapes would reset every pending alert.
    assert ok.data["global"]["scrape_timeout"] == ok.data["global"]["scrape_interval"] == "250ms"
    bad = cz.compress_prometheus(cfg, 61, "prometheus.yml")
    assert [p.line for p in bad.problems] == [2, 3]
    assert "use a speed <= 60" in bad.problems[0].message
    assert cz.max_speed(cfg) == 60


def test_alertmanager_route_tree() -> None:
    cfg = yamlpos.loads(
        "global: {resolve_timeout: 5m}\nroute:\n  receiver: a\n  group_wait: 30s\n  routes:\n"
        "    - receiver: b\n      group_interval: 10m\n      repeat_interval: 4h\n", "am.yml")
    res = cz.compress_alertmanager(cfg, 60, "am.yml")
    r = res.data["route"]
    assert (r["group_wait"], r["group_interval"], r["repeat_interval"]) == ("500ms", "5s", "4m")
    assert r["routes"][0]["group_interval"] == "10s" and r["routes"][0]["repeat_interval"] == "4m"
    assert res.data["global"]["resolve_timeout"] == "5s"


def test_repository_rules_compress_and_pass_promtool(tmp_path: Path) -> None:
    """The real rules of this repository compress at the default drill speed and stay valid."""
    repo = Path(__file__).resolve().parents[2]
    prom = repo / "monitoring/prometheus/prometheus.yml"
    if not prom.exists():
        pytest.skip("no monitoring/prometheus/prometheus.yml")
    from moncheck.stack.config import Targets, write_prometheus
    derived = write_prometheus(repo, tmp_path, Targets("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"), 60)
    files = sorted(str(p) for p in tmp_path.rglob("*.yml") if p.name != "prometheus.yml")
    assert files
    if promtool := toolchain.find("promtool"):
        r = subprocess.run([promtool, "check", "config", str(derived.config_path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
