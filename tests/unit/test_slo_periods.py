"""Every SLO period: the policy's default period (Sloth's --default-slo-period), a spec's own
`slo_period`, Sloth's AlertWindows files for custom windows, and OpenSLO burn-rate alerts.

Parity with Sloth comes from Sloth v0.16.0's own integration test data
(tests/fixtures/slo/sloth/README.md): `in-base.yaml` generated with `--default-slo-period 28d`
and with `--default-slo-period 7d --slo-period-windows-path ./windows`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from helpers import repo_with
from moncheck import slo, toolchain, yamlpos
from moncheck.slo import settings
from moncheck.slo.compare import differences
from moncheck.slo.render import dump, groups_data
from moncheck.slo.rules import Info, slo_groups
from moncheck.slo.spec import load_file

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests/fixtures/slo"
SLOTH = FIX / "sloth"
needs_promtool = pytest.mark.skipif(toolchain.find("promtool") is None, reason="promtool missing")


def _settings(policy: str, repo: Path = SLOTH) -> tuple[settings.Settings, list[str]]:
    st, errs = settings.load(repo, yamlpos.loads(policy, "policy.yml"), "policy.yml")
    return st, [e.text() for e in errs]


def _go_template(text: str) -> str:
    """Sloth's test templates: `{{ .version }}` and Go's escaped `{{"{{...}}"}}`."""
    return re.sub(r'\{\{"(.*?)"\}\}', r"\1", text).replace("{{ .version }}", "test")


@pytest.mark.parametrize(("policy", "expected"), [
    ("slo: {default_period: 28d}", "in-base-28d"),
    ("slo:\n  default_period: 7d\n  alert_windows: [windows/*.yaml]\n", "in-base-custom-windows-7d"),
])
def test_periods_and_custom_windows_identical_to_sloth_v016(policy: str, expected: str) -> None:
    st, errs = _settings(policy)
    assert errs == []
    spec, errs2 = load_file(SLOTH / "in-base.yml", "in-base.yml", st)
    assert [e.text() for e in errs2] == []
    ours = dump(groups_data([g for s in spec.slos for g in slo_groups(s, Info(version="test"))]))
    theirs = _go_template((SLOTH / f"{expected}.sloth-out.yml.tpl").read_text())
    assert differences(ours, theirs) == []
    # The comparison can fail: the built-in 30d windows are not the 28d ones.
    base, _ = load_file(SLOTH / "in-base.yml", "in-base.yml")
    ours30 = dump(groups_data([g for s in base.slos for g in slo_groups(s, Info(version="test"))]))
    assert differences(ours30, theirs)


SPEC_7D = """version: prometheus/v1
service: svc
slo_period: 7d
slos:
  - name: availability
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{status_code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: SvcAvailabilityBurn
      page_alert: {for: 2m}
      ticket_alert: {for: 10m}
"""


def test_spec_period_overrides_the_policy_default(tmp_path: Path) -> None:
    p = tmp_path / "spec.yml"
    p.write_text(SPEC_7D)
    st, _ = _settings("slo: {default_period: 28d}")
    spec, errs = load_file(p, "spec.yml", st)
    assert errs == []
    (s,) = spec.slos
    assert s.period_ms == 7 * 86_400_000
    text = dump(groups_data(slo_groups(s, Info())))
    assert "record: slo:sli_error:ratio_rate1w" in text and "vector(7)" in text
    # Sloth's 7d windows (examples/windows/7d.yaml): 13.44 over 5m/1h, 0.98 over 6h/3d.
    assert 'ratio_rate1h{sloth_id="svc-availability", sloth_service="svc", sloth_slo="availability"} > (13.44 * 0.005)' in text
    assert 'ratio_rate3d{sloth_id="svc-availability", sloth_service="svc", sloth_slo="availability"} > (0.98 * 0.005)' in text
    # Without it, the policy's default applies.
    p.write_text(SPEC_7D.replace("slo_period: 7d\n", ""))
    spec, errs = load_file(p, "spec.yml", st)
    assert errs == [] and spec.slos[0].period_ms == 28 * 86_400_000


@pytest.mark.parametrize(("edit", "expected"), [
    ("slo_period: 14d", "spec.yml:3: error: slo/spec: slo_period: unsupported SLO period 2w: no "
     "alert windows for it (built-in windows: 1w, 4w, 30d) (hint: add an AlertWindows file for it to the policy's slo.alert_windows)"),
    ("slo_period: monthly", "spec.yml:3: error: slo/spec: invalid slo_period 'monthly': invalid "
     "duration 'monthly' (expected e.g. 5m, 1h, 30d)"),
])
def test_bad_spec_period_is_located(tmp_path: Path, edit: str, expected: str) -> None:
    p = tmp_path / "spec.yml"
    p.write_text(SPEC_7D.replace("slo_period: 7d", edit))
    spec, errs = load_file(p, "spec.yml")
    assert [e.text() for e in errs] == [expected] and spec.slos == []


def test_custom_windows_replace_the_built_in_ones(tmp_path: Path) -> None:
    """As Sloth's --slo-period-windows-path: only the files' periods exist then."""
    st, errs = _settings("slo:\n  default_period: 14d\n  alert_windows: [14d.yml]\n",
                         FIX / "windows")
    assert errs == [] and sorted(st.windows) == [14 * 86_400_000]
    p = tmp_path / "spec.yml"
    p.write_text(SPEC_7D)
    _, got = load_file(p, "spec.yml", st)
    assert [e.text() for e in got] == [
        "spec.yml:3: error: slo/spec: slo_period: unsupported SLO period 1w: no alert windows "
        "for it (alert_windows windows: 2w) (hint: add an AlertWindows file for it to the policy's slo.alert_windows)"]


BAD_WINDOWS = [
    ("bad-windows.yml", [
        "bad-windows.yml:8: error: slo/windows: invalid page quick: errorBudgetPercent must be a "
        "number in (0, 100]",
        "bad-windows.yml:13: error: slo/windows: invalid page slow: shortWindow 6h must be "
        "shorter than longWindow 30m",
        "bad-windows.yml:18: error: slo/windows: invalid ticket quick: shortWindow: 1m30s is not "
        "a whole number of minutes of at least 2m",
        "bad-windows.yml:23: error: slo/windows: invalid ticket slow: longWindow: invalid "
        "duration '3x' (expected e.g. 5m, 1h, 30d)"]),
    ("wrong-kind.yml", [
        "wrong-kind.yml:2: error: slo/windows: invalid spec version: expected apiVersion "
        "'sloth.slok.dev/v1' and kind 'AlertWindows', got "
        "'sloth.slok.dev/v1'/'PrometheusServiceLevel'"]),
    ("missing-ticket.yml", [
        "missing-ticket.yml:4: error: slo/windows: ticket is required (quick and slow windows)",
        "missing-ticket.yml:7: error: slo/windows: invalid page slow: longWindow 15d is not "
        "shorter than the SLO period 2w"]),
    ("malformed.yml", ["malformed.yml:4: error: slo/windows: invalid YAML at column 1: expected "
                       "the node content, but found '<stream end>'"]),
    ("absent.yml", ["absent.yml:1: error: slo/windows: file not found"]),
    ("*.none", ["policy.yml:3: error: slo/spec: policy slo: alert_windows: '*.none' matches no "
                "file"]),
    ("14d*.yml", ["14d.yml:2: error: slo/windows: 2w slo period is already loaded from "
                  "14d-other.yml with other windows"]),
]


@pytest.mark.parametrize(("files", "expected"), BAD_WINDOWS, ids=[b[0] for b in BAD_WINDOWS])
def test_bad_alert_windows_files_are_located(files: str, expected: list[str]) -> None:
    st, errs = _settings(f"slo:\n  default_period: 14d\n  alert_windows: ['{files}']\n",
                         FIX / "windows")
    # A period whose windows did not load is also reported, once, at the policy's line.
    tail = [] if st.period_error(14 * 86_400_000) is None else [
        "policy.yml:2: error: slo/spec: policy slo: default_period: unsupported SLO period 2w: "
        "no alert windows for it (alert_windows windows: none loaded)"]
    assert errs == expected + tail


def test_bad_policy_section_is_located() -> None:
    _, errs = _settings("slo:\n  default_period: 5w\n  windows: []\n  openslo_alerts:\n"
                        "    page: {for: soon, label: {}}\n")
    assert sorted(errs) == [
        "policy.yml:2: error: slo/spec: policy slo: default_period: unsupported SLO period 5w: "
        "no alert windows for it (built-in windows: 1w, 4w, 30d)",
        "policy.yml:3: error: slo/spec: policy slo: unknown key 'windows' (expected one of: "
        "alert_windows, default_period, openslo_alerts)",
        "policy.yml:5: error: slo/spec: policy slo: openslo_alerts: page: invalid for: invalid "
        "duration 'soon' (expected e.g. 5m, 1h, 30d)",
        "policy.yml:5: error: slo/spec: policy slo: openslo_alerts: page: unknown key 'label' "
        "(expected one of: annotations, disable, for, labels)",
    ]


def test_openslo_alert_policies_become_burn_rate_alerts() -> None:
    spec, errs = load_file(FIX / "good/openslo-alerts.yml", "o.yml")
    assert errs == []
    (s,) = spec.slos
    assert s.page is not None and s.ticket is not None and s.windows is not None
    assert (s.page.name, s.page.for_, s.page.labels) == ("CheckoutErrorBudgetBurn", "2m",
                                                         {"severity": "critical"})
    assert (s.ticket.name, s.ticket.for_, s.ticket.labels) == ("checkout-ticket", "10m",
                                                               {"severity": "warning"})
    ws = s.windows
    # lookbackWindow is the long window, a twelfth of it the short one; threshold the factor.
    got = [(w.short_ms // 60_000, w.long_ms // 60_000, ws.factor(w))
           for w in (ws.page_quick, ws.page_slow, ws.ticket_quick, ws.ticket_slow)]
    assert got == [(5, 60, 14.0), (30, 360, 6.0), (120, 1440, 3.0), (360, 4320, 1.0)]


def test_bad_openslo_alert_policies_are_located() -> None:
    spec, errs = load_file(FIX / "bad/openslo-alert-policies.yml", "b.yml")
    w = "alertPolicies[0] (page): "
    assert [e.text() for e in errs] == [
        f'b.yml:16: error: slo/spec: invalid slo "one": {w}exactly two burn-rate conditions are '
        "required (the quick and the slow window pair), got 1",
        'b.yml:18: error: slo/spec: invalid slo "one": alertPolicies[1] (ticket): alertPolicyRef '
        "'nowhere': no AlertPolicy document of that name in this file",
        f'b.yml:38: error: slo/spec: invalid slo "two": {w}conditions[0]: op \'lt\' is not '
        "supported: a burn-rate alert fires above its threshold (gt; gte is read as gt)",
        f'b.yml:42: error: slo/spec: invalid slo "two": {w}conditions[1]: lookbackWindow 90m: '
        "7m30s is not a whole number of minutes of at least 2m (the short window is 1/12 of it; "
        "use a multiple of 24m)",
        f'b.yml:46: error: slo/spec: invalid slo "two": {w}conditions[2]: condition kind '
        "'threshold' is not supported (only burnrate)",
        f'b.yml:47: error: slo/spec: invalid slo "two": {w}conditions[3]: conditionRef '
        "'missing': no AlertCondition document of that name in this file",
        f'b.yml:77: error: slo/spec: invalid slo "three": {w}the shorter lookbackWindow needs '
        "the higher threshold (a quick pair catches a fast burn, the slow pair a slower one)",
    ]
    assert spec.slos == []


POLICY = """version: 1
slo:
  default_period: 28d
  alert_windows: [monitoring/slos/windows/*.yaml]
  openslo_alerts:
    name_suffix: Burn
    page: {for: 3m, labels: {severity: critical}, annotations: {summary: fast burn}}
    ticket: {disable: true}
"""


def _policy_repo(tmp_path: Path, policy: str, windows: list[Path], *specs: Path) -> Path:
    repo = repo_with(tmp_path / "repo", *specs)
    (repo / "policies").mkdir()
    (repo / "policies/policy.yml").write_text(policy)
    (repo / "monitoring/slos/windows").mkdir()
    for w in windows:
        (repo / "monitoring/slos/windows" / w.name).write_text(w.read_text())
    return repo


def _spec_file(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_policy_drives_the_repository_generation(tmp_path: Path) -> None:
    """The policy file of the repository: custom windows (Sloth's examples/windows/custom-30d
    and a 28d file), its default period, and the default alerts of an OpenSLO SLO."""
    openslo = (FIX / "good/openslo.yml").read_text().split("---\n")[0].replace(
        "    - duration: 28d\n", "    - duration: 30d\n")
    repo = _policy_repo(tmp_path, POLICY,
                        [SLOTH / "windows-custom-30d.yaml",
                         _spec_file(tmp_path, "28d.yaml", (FIX / "windows/14d.yml").read_text()
                                    .replace("sloPeriod: 14d", "sloPeriod: 28d"))],
                        _spec_file(tmp_path, "a.yml", SPEC_7D.replace("slo_period: 7d\n", "")),
                        _spec_file(tmp_path, "o.yml", openslo))
    p = slo.plan(repo)
    assert p.ok, [f.text() for f in p.findings]
    rules = p.files[Path("monitoring/prometheus/rules/slo/svc-availability.yml")]
    assert "record: slo:sli_error:ratio_rate4w" in rules  # the policy's default_period
    uptime = p.files[Path("monitoring/prometheus/rules/slo/svc-uptime-0.yml")]
    # Sloth's examples/windows/custom-30d.yaml: 2m/30m at 1% of the budget is 14.4x.
    assert ('max(slo:sli_error:ratio_rate2m{sloth_id="svc-uptime-0", sloth_service="svc", '
            'sloth_slo="uptime-0"} > (14.4 * 0.005)) without (sloth_window)'
            in uptime)
    assert "- alert: SvcUptime0Burn\n" in uptime and "sloth_severity: ticket" not in uptime
    assert "for: 3m" in uptime and "summary: fast burn" in uptime
    # A 2m window sampled once a minute: what the tests cannot tell apart is a warning.
    (untested,) = [f for f in p.findings if f.check == "slo/untested"]
    assert untested.path == "monitoring/slos/o.yml" and untested.line == 2
    assert untested.message == (
        'slo "uptime-0": the generated tests cannot tell 2 modelled mutants from the rules: '
        "sli: 2m rule errors irate, sli: 2m rule total irate")


@needs_promtool
def test_every_period_passes_promtool(tmp_path: Path) -> None:
    """28d (the policy's default), 7d (a spec's slo_period, Sloth's test windows), a custom 14d,
    and Sloth's custom-30d windows (2m short window) on an OpenSLO SLO with the policy's default
    alerts: the generated rules pass promtool check rules, the generated tests promtool test."""
    policy = POLICY.replace("ticket: {disable: true}", "ticket: {for: 10m}")
    fourteen = (FIX / "windows/14d.yml").read_text()
    windows = [SLOTH / "windows/7d.yaml", SLOTH / "windows-custom-30d.yaml",
               _spec_file(tmp_path, "14d.yaml", fourteen),
               _spec_file(tmp_path, "28d.yaml", fourteen.replace("sloPeriod: 14d", "sloPeriod: 28d"))]
    openslo = (FIX / "good/openslo.yml").read_text().split("---\n")[0].replace(
        "    - duration: 28d\n", "    - duration: 30d\n")
    repo = _policy_repo(
        tmp_path, policy, windows,
        _spec_file(tmp_path, "a.yml", SPEC_7D.replace("slo_period: 7d\n", "")),
        _spec_file(tmp_path, "b.yml", SPEC_7D.replace("availability", "seven")),
        _spec_file(tmp_path, "c.yml", SPEC_7D.replace("slo_period: 7d", "slo_period: 14d")
                   .replace("availability", "fortnight")),
        _spec_file(tmp_path, "o.yml", openslo))
    p = slo.plan(repo)
    assert p.ok, [f.text() for f in p.findings]
    slo.write(repo, p)
    promtool = str(toolchain.find("promtool"))
    rules = sorted(str(x) for x in (repo / "monitoring/prometheus/rules/slo").glob("*.yml"))
    assert [Path(r).name for r in rules] == ["svc-availability.yml", "svc-fortnight.yml",
                                             "svc-seven.yml", "svc-uptime-0.yml"]
    r = subprocess.run([promtool, "check", "rules", *rules], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    tests = sorted(x.name for x in (repo / "tests/rules/slo").glob("*.test.yml"))
    assert tests == sorted(f"{i}{sfx}.test.yml" for i in ("svc-availability", "svc-fortnight",
                                                           "svc-seven", "svc-uptime-0")
                           for sfx in ("", ".days", ".exact", ".period")), tests
    r = subprocess.run([promtool, "test", "rules", *tests], capture_output=True, text=True,
                       timeout=900, cwd=repo / "tests/rules/slo")
    assert r.returncode == 0, r.stdout + r.stderr


def test_kubernetes_crd_takes_its_period_as_slo_period(tmp_path: Path) -> None:
    text = (SLOTH / "k8s-getting-started.yml").read_text().replace(
        "spec:\n  service:", "spec:\n  sloPeriod: 7d\n  service:", 1)
    assert "sloPeriod: 7d" in text
    p = tmp_path / "k8s.yml"
    p.write_text(text)
    spec, errs = load_file(p, "k8s.yml")
    assert errs == [] and [s.period_ms for s in spec.slos] == [7 * 86_400_000]


def test_openslo_empty_alert_policies_mean_no_alerts(tmp_path: Path) -> None:
    text = (FIX / "good/openslo.yml").read_text().split("---\n")[0] + "  alertPolicies: []\n"
    p = tmp_path / "o.yml"
    p.write_text(text)
    spec, errs = load_file(p, "o.yml")
    assert errs == [] and (spec.slos[0].page, spec.slos[0].ticket) == (None, None)
    assert len(slo_groups(spec.slos[0], Info())) == 2  # SLI and metadata rules, no alerts


_ANY = st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats() | st.text(max_size=8) \
    | st.sampled_from(["0s", "-1h", "1h", "3d", "90s", "1y", "30d", "5m", "nope"]) \
    | st.lists(st.integers(), max_size=2) | st.dictionaries(st.text(max_size=3), st.integers(),
                                                             max_size=2)
_WINDOW_PATHS = [("spec",), ("spec", "sloPeriod"), ("spec", "page"), ("spec", "ticket", "slow"),
                 ("spec", "page", "quick", "errorBudgetPercent"),
                 ("spec", "page", "slow", "shortWindow"), ("spec", "ticket", "quick", "longWindow"),
                 ("kind",), ("apiVersion",)]


@hsettings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.sampled_from(_WINDOW_PATHS), _ANY), max_size=3))
def test_any_alert_windows_document_loads_or_gives_located_errors(edits: list) -> None:
    """Whatever a value is, an AlertWindows file gives windows or errors at a line: never an
    exception (the hardened loader has already turned the text into data)."""
    from moncheck.slo.windows import parse_alert_windows

    text = (SLOTH / "windows-custom-30d.yaml").read_text()
    for path, value in edits:
        doc = yaml.safe_load(text)
        node = doc
        for k in path[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[path[-1]] = value
        text = yaml.safe_dump(doc)
    ws, errs = parse_alert_windows(yamlpos.loads(text, "w.yml"), "w.yml")
    assert (ws is None) == bool(errs)
    assert all(e.path == "w.yml" and e.line >= 1 and e.check == "slo/windows" for e in errs)


@hsettings(max_examples=120, deadline=None, derandomize=True, database=None,
           suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(["kind", "op", "threshold", "lookbackWindow",
                                                 "alertAfter"]), _ANY), max_size=3),
       which=st.sampled_from([0, 1]))
def test_any_openslo_burn_condition_loads_or_gives_located_errors(tmp_path: Path, edits: list,
                                                                  which: int) -> None:
    docs = list(yaml.safe_load_all((FIX / "good/openslo-alerts.yml").read_text()))
    cond = docs[0]["spec"]["alertPolicies"][0]["spec"]["conditions"][which]["spec"]["condition"]
    for key, value in edits:
        cond[key] = value
    p = tmp_path / "o.yml"
    p.write_text(yaml.safe_dump_all(docs))
    spec, errs = load_file(p, "o.yml")
    errors = [e for e in errs if e.severity.name == "ERROR"]
    assert bool(spec.slos) != bool(errors)
    assert all(e.path == "o.yml" and e.line >= 1 and e.check == "slo/spec" for e in errs)
