"""What the smoke checks expect of a running stack, read from the repository through the inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

from moncheck import yamlpos
from moncheck.smoke import repo as repo_mod
from moncheck.stack import config as stack_cfg

ROOT = Path(__file__).resolve().parents[2]
AM = ROOT / "monitoring/alertmanager/alertmanager.yml"


def test_the_stacks_compressed_config_has_the_repositorys_routing(tmp_path: Path) -> None:
    derived = stack_cfg.write_alertmanager(ROOT, tmp_path, "http://127.0.0.1:5", "127.0.0.1:6", 60)
    want = repo_mod.routing_shape(yamlpos.load(AM))
    assert repo_mod.diff_shapes(want, repo_mod.routing_shape(yamlpos.load(derived))) == []
    assert len(want["inhibit_rules"]) == 6 and want["route"]["routes"][0]["matchers"] == ['severity="critical"']


def test_legacy_and_new_matchers_are_the_same_route_and_a_change_is_named() -> None:
    base = "route:\n  receiver: a\n  routes:\n    - receiver: b\n      {}\nreceivers: [{{name: a}}, {{name: b}}]\n"
    legacy = repo_mod.routing_shape(yamlpos.loads(base.format("match: {severity: critical}")))
    new = repo_mod.routing_shape(yamlpos.loads(base.format("matchers: ['severity=\"critical\"']")))
    other = repo_mod.routing_shape(yamlpos.loads(base.format("matchers: ['severity=\"high\"']")))
    assert repo_mod.diff_shapes(legacy, new) == []
    assert repo_mod.diff_shapes(legacy, other) == [
        """route.routes[0].matchers: repo ['severity="critical"'], loaded ['severity="high"']"""]


def test_a_config_that_does_not_load_is_a_located_error() -> None:
    with pytest.raises(yamlpos.LoadError) as e:
        repo_mod.routing_shape(yamlpos.loads("route:\n  receiver: nobody\nreceivers: [{name: a}]\n"))
    assert (e.value.path, e.value.line) == (repo_mod.AM_CONFIG, 2)


def test_rule_groups_come_from_the_inventory_and_bad_files_are_errors(tmp_path: Path) -> None:
    rules = tmp_path / "monitoring/prometheus/rules"
    rules.mkdir(parents=True)
    (rules / "a.yml").write_text("groups:\n  - name: g\n    rules:\n      - {alert: A, expr: up == 0}\n  - name: e\n    rules: []\n")
    assert repo_mod.rule_groups(tmp_path) == {"g": ["A"], "e": []}
    (rules / "b.yml").write_text("groups:\n  - rules: []\n")
    repo_mod._inventory.cache_clear()
    with pytest.raises(yamlpos.LoadError) as e:
        repo_mod.rule_groups(tmp_path)
    assert (e.value.path, e.value.line, e.value.message) == ("monitoring/prometheus/rules/b.yml", 2, "rule group without a name")
    (rules / "b.yml").write_text("groups: [\n")
    repo_mod._inventory.cache_clear()
    with pytest.raises(yamlpos.LoadError) as e:
        repo_mod.rule_groups(tmp_path)
    assert e.value.path == "monitoring/prometheus/rules/b.yml" and "invalid YAML" in e.value.message
