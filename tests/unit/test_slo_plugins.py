"""Sloth v0.16 SLO plugins: the spec's `slo_plugins` and an SLO's `plugins` (docs/slo.md,
"SLO plugins"). Supported ones change the rules exactly as in Sloth; the others are located
errors that say why."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from moncheck.slo.compare import differences
from moncheck.slo.render import dump, groups_data
from moncheck.slo.rules import Info, slo_groups
from moncheck.slo.spec import load_file

FIX = Path(__file__).resolve().parents[1] / "fixtures/slo"
SLOTH_INFO = Info(version="dev", extra_labels={"cmd": "examplesgen.sh"})

SPEC = """version: "prometheus/v1"
service: "svc"
{group}slos:
  - name: "availability"
    objective: 99.9
{slo}    sli:
      events:
        error_query: sum(rate(http_requests_total{{status_code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total[{{{{.window}}}}]))
    alerting:
      name: SvcAvailabilityBurn
"""


def _load(tmp_path: Path, group: str = "", slo: str = "") -> tuple[list, list[str]]:
    p = tmp_path / "spec.yml"
    p.write_text(SPEC.format(group=group, slo=slo))
    spec, errs = load_file(p, "spec.yml")
    return spec.slos, [e.text() for e in errs]


def _chain(indent: str, key: str, *plugins: str, override: bool = False) -> str:
    head = f"{indent}{key}:\n" + (f"{indent}  overridePrevious: true\n" if override else "")
    return head + f"{indent}  chain:\n" + "".join(f"{indent}    - {p}\n" for p in plugins)


INFO = '{id: sloth.dev/contrib/info_labels/v1, %sconfig: {labels: {%s}}}'


def test_info_labels_of_the_spec_and_the_slo_merge_in_priority_order(tmp_path: Path) -> None:
    slos, errs = _load(tmp_path, _chain("", "slo_plugins", INFO % ("", "a: spec, b: spec")),
                       _chain("    ", "plugins", INFO % ("priority: 5, ", "b: slo"),
                              INFO % ("", "c: slo")))
    assert errs == []
    rules = slo_groups(slos[0], Info())[1].rules
    info = next(r for r in rules if r.record == "sloth_slo_info")
    assert (info.labels["a"], info.labels["b"], info.labels["c"]) == ("spec", "slo", "slo")
    assert all("a" not in r.labels for r in rules if r.record != "sloth_slo_info")


def test_info_labels_before_the_metadata_rules_change_nothing_as_in_sloth(tmp_path: Path) -> None:
    slos, errs = _load(tmp_path, slo=_chain("    ", "plugins", INFO % ("priority: -1, ", "a: x")))
    assert errs == ['spec.yml:8: warning: slo/spec: slo "availability": '
                    "sloth.dev/contrib/info_labels/v1 runs before the metadata rules exist "
                    "(priority -1): as in Sloth, it changes nothing"]
    assert slos[0].meta_labels == {}


def test_override_previous_needs_the_core_generators(tmp_path: Path) -> None:
    _, errs = _load(tmp_path, slo=_chain("    ", "plugins", "{id: sloth.dev/core/sli_rules/v1}",
                                         override=True))
    assert errs == ['spec.yml:6: error: slo/spec: invalid slo "availability": overridePrevious '
                    "drops Sloth's default plugins, and the chain does not generate them again "
                    "(sloth.dev/core/metadata_rules/v1, sloth.dev/core/alert_rules/v1): moncheck "
                    "always generates SLI, metadata and alert rules (list the three core plugins)"]
    # With them, the chain runs in its own order (no defaults): info_labels before the
    # metadata rules changes nothing; info_labels after them applies.
    core = ["{id: sloth.dev/core/sli_rules/v1}", "{id: sloth.dev/core/alert_rules/v1}"]
    slos, errs = _load(tmp_path, slo=_chain("    ", "plugins", *core, INFO % ("", "a: x"),
                                            "{id: sloth.dev/core/metadata_rules/v1}",
                                            INFO % ("priority: 1, ", "b: y"), override=True))
    assert errs == ['spec.yml:11: warning: slo/spec: slo "availability": '
                    "sloth.dev/contrib/info_labels/v1 runs before the metadata rules exist "
                    "(priority 0): as in Sloth, it changes nothing"]
    assert slos[0].meta_labels == {"sloth_slo_info": {"b": "y"}}


@pytest.mark.parametrize(("plugin", "message"), [
    ("{id: sloth.dev/contrib/rule_intervals/v1, config: {interval: {default: 5m}}}",
     "plugin 'sloth.dev/contrib/rule_intervals/v1': not supported by moncheck: a group "
     "`interval` changes when the SLI and alert rules are evaluated"),
    ("{id: sloth.dev/contrib/remove_labels/v1}", "not supported by moncheck: it removes the "
     "SLO's labels"),
    ("{id: sloth.dev/contrib/error_budget_exhausted_alert/v1}", "an alert that would have no "
     "generated test and no runbook"),
    ("{id: sloth.dev/contrib/denominator_corrected_rules/v1}", "traffic-weighted"),
    ("{id: sloth.dev/contrib/validate_victoria_metrics/v1}", "not MetricsQL"),
    ("{id: my-company/custom/v1}", "moncheck cannot run Sloth plugins (Go code"),
    ("{id: sloth.dev/core/sli_rules/v1, config: {disableOptimized: true}}", "a config (e.g. "
     "disableOptimized)"),
    ("{id: sloth.dev/contrib/info_labels/v1}", "invalid config: labels is required"),
    ("{id: sloth.dev/contrib/info_labels/v1, config: {labels: {a-b: x}}}", "invalid config: "
     "label name 'a-b' must match"),
    ("{id: sloth.dev/contrib/info_labels/v1, priority: high, config: {labels: {a: x}}}",
     "priority must be an integer"),
])
def test_unsupported_plugins_are_located_errors_that_say_why(tmp_path: Path, plugin: str,
                                                             message: str) -> None:
    slos, errs = _load(tmp_path, slo=_chain("    ", "plugins", plugin))
    assert len(errs) == 1 and errs[0].startswith(
        'spec.yml:8: error: slo/spec: invalid slo "availability": plugins: ') and message in errs[0]
    assert slos == []


def test_spec_level_plugin_errors_are_located(tmp_path: Path) -> None:
    _, errs = _load(tmp_path, _chain("", "slo_plugins", "{id: sloth.dev/core/noop/v1}",
                                     "{config: {}}"))
    assert errs == ["spec.yml:6: error: slo/spec: slo_plugins: chain[1]: id is required"]
    _, errs = _load(tmp_path, "slo_plugins: [a]\n")
    assert errs == ["spec.yml:3: error: slo/spec: slo_plugins: expected a mapping with a "
                    "`chain` list"]


def test_sloth_contrib_example_info_labels_identical_rule_intervals_rejected() -> None:
    """Sloth's examples/contrib-slo-plugins.yml: its info_labels SLO uses label names with `-`
    (Prometheus 3 accepts them, promtool 2 does not, Sloth does not check); with valid names the
    rules are Sloth's; rule_intervals is rejected with the reason."""
    path = FIX / "sloth/contrib-slo-plugins.yml"
    _, errs = load_file(path, "c.yml")
    assert [(e.line, e.message.split(": ")[2]) for e in errs] == [
        (14, "plugin 'sloth.dev/contrib/info_labels/v1'"),
        (45, "plugin 'sloth.dev/contrib/rule_intervals/v1'")]
    fixed = path.read_text().replace("plug-l", "plug_l")
    doc = yaml.safe_load(fixed)
    doc["slos"] = doc["slos"][:1]
    spec, errs2 = _load_text(yaml.safe_dump(doc, sort_keys=False))
    assert errs2 == []
    ours = dump(groups_data([g for s in spec for g in slo_groups(s, SLOTH_INFO)]))
    theirs = yaml.safe_load((FIX / "sloth/contrib-slo-plugins.sloth-out.yml").read_text()
                            .replace("plug-l", "plug_l"))
    theirs["groups"] = [g for g in theirs["groups"] if g["name"].endswith("info-labels-v1")]
    assert differences(ours, yaml.safe_dump(theirs)) == []


def _load_text(text: str) -> tuple[list, list[str]]:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "spec.yml"
        p.write_text(text)
        spec, errs = load_file(p, "spec.yml")
    return spec.slos, [e.text() for e in errs]


def test_info_labels_on_a_record_that_is_no_metadata_rule_is_a_warning(tmp_path: Path) -> None:
    slos, errs = _load(tmp_path, slo=_chain(
        "    ", "plugins", (INFO % ("", "a: x")).replace("config: {", "config: {metricName: up, ")))
    assert errs == ['spec.yml:8: warning: slo/spec: slo "availability": '
                    "sloth.dev/contrib/info_labels/v1: metricName 'up' is not a metadata rule "
                    "(slo:objective:ratio, slo:error_budget:ratio, slo:time_period:days, "
                    "slo:current_burn_rate:ratio, slo:period_burn_rate:ratio, "
                    "slo:period_error_budget_remaining:ratio, sloth_slo_info): as in Sloth, it "
                    "changes nothing"]
    assert slos[0].meta_labels == {}
