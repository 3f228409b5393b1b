"""moncheck.yml / [tool.moncheck], `moncheck init`, nothing-to-check, strict tools, path context."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from moncheck import cli, config
from moncheck.gate import run_gate

RULES = textwrap.dedent("""\
    groups:
      - name: g
        rules:
          - alert: InstanceDown
            expr: up == 0
            for: 5m
            labels: {severity: warning}
    """)
TESTS = textwrap.dedent("""\
    rule_files: [../prom/alerts.yml]
    tests:
      - interval: 1m
        input_series:
          - series: 'up{job="a"}'
            values: '0x10'
        alert_rule_test:
          - eval_time: 6m
            alertname: InstanceDown
            exp_alerts:
              - exp_labels: {severity: warning, job: a}
    """)
AM = "route: {receiver: r}\nreceivers: [{name: r}]\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository of another layout: prom/, alerting/, qa/."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    (tmp_path / ".git").mkdir()
    return write(tmp_path, {"prom/alerts.yml": RULES, "prom/more.yml": RULES.replace("InstanceDown", "Other"),
                            "qa/tests.yaml": TESTS, "alerting/am.yml": AM, "README.md": "# peer\n"})


def test_defaults_reproduce_the_contract_layout(tmp_path: Path) -> None:
    cfg = config.load(tmp_path)
    assert (cfg.source, cfg.configured_repo) == (None, False)
    assert cfg.rules == ("monitoring/prometheus/rules/**/*.yml", "monitoring/prometheus/rules/**/*.yaml")
    assert (cfg.catalog, cfg.policy) == ("monitoring/catalog/metrics.yml", "policies/policy.yml")


def test_moncheck_yml_names_only_what_it_lists(peer: Path) -> None:
    write(peer, {"moncheck.yml": "version: 1\nrules: prom/*.yml\nalertmanager: alerting/am.yml\n"})
    cfg = config.load(peer)
    assert (cfg.source, cfg.rules, cfg.alertmanager, cfg.rule_tests, cfg.catalog) == (
        "moncheck.yml", ("prom/*.yml",), "alerting/am.yml", (), None)
    assert cfg.configured("alertmanager") and not cfg.configured("catalog")
    assert [p.name for p in cfg.files("rules")] == ["alerts.yml", "more.yml"]


def test_globs_never_take_the_config_for_an_artifact(peer: Path) -> None:
    write(peer, {"moncheck.yml": "rules: ['*.yml']\n", "alerts.yml": RULES})
    assert [p.name for p in config.load(peer).files("rules")] == ["alerts.yml"]


def test_pyproject_errors_name_the_line(peer: Path) -> None:
    write(peer, {"pyproject.toml": '[project]\nname = "x"\n[tool.moncheck\n'})
    with pytest.raises(config.ConfigError) as e:
        config.load(peer)
    assert (e.value.path, e.value.line) == ("pyproject.toml", 3)


def test_pyproject_tool_section(peer: Path) -> None:
    write(peer, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.moncheck]\nrules = ["prom/alerts.yml"]\n'})
    cfg = config.load(peer)
    assert (cfg.source, cfg.rules) == ("pyproject.toml [tool.moncheck]", ("prom/alerts.yml",))


@pytest.mark.parametrize(("text", "message"), [
    ("rules: [a.yml]\nrule_test: [t.yml]\n", "moncheck.yml:2: unknown key 'rule_test'"),
    ("rules: 3\n", "moncheck.yml:1: rules: 3 is not valid under any of the given schemas"),
    ("catalog: ../outside.yml\n", "moncheck.yml:1: catalog: '../outside.yml' must be relative to the repository, inside it"),
    ("rules: [a\n", "moncheck.yml:2: invalid YAML"),
], ids=["unknown-key", "wrong-type", "outside", "malformed"])
def test_bad_config_is_a_usage_error(peer: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    write(peer, {"moncheck.yml": text})
    assert cli.main(["check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message.split(":", 2)[0] + ":" + message.split(":", 2)[1] + ": error: ")
    assert message.split(":", 2)[2].strip() in err[0]


def test_nothing_to_check_exits_2(peer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Another layout without moncheck.yml: the default paths hold nothing, so it says so."""
    assert cli.main(["check"]) == 2
    err = capsys.readouterr().err
    assert f"moncheck: error: nothing to check in {peer}: no monitoring artifacts found; run `moncheck init`" in err


def test_init_writes_config_and_check_uses_it(peer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["init"]) == 0
    out = capsys.readouterr().out
    text = (peer / "moncheck.yml").read_text()
    assert '  - "prom/*.yml"' in text and '  - "qa/*.yaml"' in text and "alertmanager: alerting/am.yml" in text
    assert "policy" not in config.load(peer).explicit
    for line in ("      2  rule files", "      1  promtool tests", "      1  alertmanager config"):
        assert line in out
    assert "note: no policy file: only correctness checks will run" in out
    assert "correctness checks; organisation rules off (none enabled)" in out
    assert cli.main(["init"]) == 2  # never overwrites without --force
    assert "exists; pass --force" in capsys.readouterr().err
    assert cli.main(["check"]) == 0
    err = capsys.readouterr().err
    assert "moncheck: 0 errors, 0 warnings" in err


def test_init_on_an_empty_repository_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["init", "--repo", str(tmp_path)]) == 2
    assert "nothing to check" in capsys.readouterr().err
    assert not (tmp_path / "moncheck.yml").exists()


def test_missing_tools_fail_under_ci_or_strict(peer: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    write(peer, {"moncheck.yml": "rules: [prom/*.yml]\nalertmanager: alerting/am.yml\n"})
    monkeypatch.setenv("MONCHECK_PROMTOOL", str(peer / "no-promtool"))  # neither promtool nor amtool
    monkeypatch.setenv("MONCHECK_AMTOOL", str(peer / "no-amtool"))
    monkeypatch.setenv("PATH", str(peer))  # neither promtool nor amtool
    monkeypatch.setenv("MONCHECK_TOOLCHAIN_DIR", str(peer / "no-toolchain"))  # nor a fetched toolchain
    assert cli.main(["check"]) == 0  # locally: skipped, and said so
    assert "promtool/check-rules, amtool/check-config;" in capsys.readouterr().err
    assert cli.main(["check", "--strict"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("moncheck: error: promtool/check-rules, amtool/check-config could not run (--strict): promtool")
    monkeypatch.setenv("CI", "true")
    assert cli.main(["check"]) == 2
    assert "could not run (CI is set)" in capsys.readouterr().err


def test_paths_in_a_configured_repository_use_its_context(peer: Path) -> None:
    """Path mode keeps the repository's policy and tests: the alert is tested (in qa/), and the
    policy's required label applies; only findings of the given path are reported."""
    write(peer, {"moncheck.yml": "rules: [prom/*.yml]\nrule_tests: [qa/tests.yaml]\npolicy: pol.yml\n",
                 "pol.yml": "enable: [alerts/untested, alerts/required-labels]\nrequired_labels: [severity, team]\n"})
    res = run_gate(peer, [peer / "prom/alerts.yml"], tools=False)
    assert [(f.check, f.path, f.line) for f in res.findings] == [("alerts/required-labels", "prom/alerts.yml", 7)]
    whole = run_gate(peer, [], tools=False)
    assert {(f.check, f.path) for f in whole.findings} == {
        ("alerts/required-labels", "prom/alerts.yml"), ("alerts/required-labels", "prom/more.yml"), ("alerts/untested", "prom/more.yml")}


def test_a_loose_file_next_to_the_configured_repository(peer: Path) -> None:
    write(peer, {"moncheck.yml": "rules: [prom/alerts.yml]\n", "scratch/new.yml": RULES.replace("up == 0", "up")})
    res = run_gate(peer, [peer / "scratch/new.yml"], tools=False)
    assert [(f.check, f.path, f.line) for f in res.findings] == [("alerts/no-comparison", "scratch/new.yml", 5)]


def test_init_globs_keep_folders_and_naming_conventions(tmp_path: Path) -> None:
    from moncheck.commands.init import inspect

    write(tmp_path, {"ops/rules/a.rules.yml": RULES, "ops/rules/team/b.rules.yml": RULES, "ops/other.yml": "x: 1\n",
                     "ops/tests/a.test.yml": TESTS, "ops/tests/b.test.yml": TESTS, "fixtures/bad.rules.yml": RULES,
                     "site/data.yml": "groups:\n  - name: Basic\n    services: [a]\n",
                     "ops/rules/helm.rules.yml": "groups:\n{{- range .Values.groups }}\n  - name: {{ .name }}\n{{- end }}\n"})
    data, notes = inspect(tmp_path)
    assert "templated files left out (render them first, then add the output): ops/rules/helm.rules.yml" in notes
    (tmp_path / "ops/rules/helm.rules.yml").unlink()
    data, _ = inspect(tmp_path)
    assert (data["rules"], data["rule_tests"]) == (["ops/rules/**/*.rules.yml"], ["ops/tests/*.test.yml"])


def test_init_merges_sibling_folders(tmp_path: Path) -> None:
    from moncheck.commands.init import inspect

    write(tmp_path, {f"mixins/{m}/alerts/a.yaml": RULES for m in ("etcd", "kafka", "node")})
    write(tmp_path, {"mixins/node/README.yaml": "title: node\n"})
    data, _ = inspect(tmp_path)
    assert data["rules"] == ["mixins/*/alerts/*.yaml"]


def test_empty_rule_files_fit_any_glob_and_are_valid(tmp_path: Path) -> None:
    from moncheck.commands.init import inspect

    write(tmp_path, {"m/a/alerts.yaml": RULES, "m/a/rules.yaml": "{}\n", "m/b/alerts.yaml": "null\n",
                     "m/b/rules.yaml": "groups: []\n", "m/c/alerts.yaml": RULES})
    data, _ = inspect(tmp_path)
    assert data["rules"] == ["m/**/*.yaml"]
    write(tmp_path, {"moncheck.yml": "rules: ['m/**/*.yaml']\n"})
    assert [(f.check, f.path) for f in run_gate(tmp_path, [], tools=False).findings] == []
