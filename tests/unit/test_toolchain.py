"""Toolchains: the pins, the binary lookup, set-up's private apt fetch, and 3.x-only rule syntax."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from moncheck import toolchain
from moncheck.toolchain import fetch, syntax
from moncheck.tools import promtool as pt

REFUSED = "http://127.0.0.1:9/debian"  # nothing listens on port 9: a mirror that cannot be reached


def need(name: str) -> None:
    """Toolchain ``name`` must be installed; under CI its absence is a failure, not a skip."""
    missing = [t for t in toolchain.TOOLS if toolchain.find_in(t, name) is None]
    if missing:
        msg = f"toolchain {name} lacks {', '.join(missing)} (make setup installs it)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def test_versions_file_pins_each_package_once_and_names_a_default() -> None:
    data = toolchain.spec()
    assert data["default"] == "3" and set(toolchain.names()) == {"3", "2"}
    three = data["toolchains"]["3"]
    assert three["fetch"]["packages"] == {"prometheus": "3.5.3+ds1-6", "promtool": "3.5.3+ds1-6",
                                          "prometheus-alertmanager": "0.33.1-5"}
    assert set(three["binaries"]) == set(toolchain.TOOLS)


@pytest.mark.parametrize(("version", "up"), [("3.5.3+ds1-6", "3.5.3"), ("0.33.1-5", "0.33.1"),
                                             ("1:2.42.0+ds-5+deb12u1", "2.42.0"), ("0.25.0", "0.25.0")])
def test_upstream_version(version: str, up: str) -> None:
    assert fetch.upstream(version) == up


def test_machine_sources_read_deb822_and_one_line_formats(tmp_path: Path) -> None:
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "debian.sources").write_text(textwrap.dedent(f"""\
        Types: deb
        # a comment
        URIs: {REFUSED}
        Suites: bookworm bookworm-updates
        Components: main
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

        Types: deb
        URIs: {REFUSED}-security
        Suites: bookworm-security
        Components: main
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
        """))
    (d / "other.sources").write_text(f"Types: deb\nURIs: {REFUSED}/x\nSuites: ./\nEnabled: no\n")
    one = tmp_path / "sources.list"
    one.write_text(f"# comment\ndeb [arch=amd64 signed-by=/k.gpg] {REFUSED} trixie main\n"
                   f"deb {REFUSED}-security bookworm-security main\n")
    found = fetch.machine_sources(d, one)
    assert [(s.uri, s.keyring, Path(s.origin).name) for s in found] == [
        (REFUSED, "/k.gpg", "sources.list"),
        (REFUSED, "/usr/share/keyrings/debian-archive-keyring.gpg", "debian.sources"),
    ]


def _fetch(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "MONCHECK_TOOLCHAIN"} | env
    return subprocess.run([sys.executable, "-m", "moncheck.toolchain", "fetch"], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300, check=False)


def test_unreachable_suite_is_one_clear_line_and_leaves_nothing(tmp_path: Path) -> None:
    home = tmp_path / "tc"
    r = _fetch({"MONCHECK_TOOLCHAIN_DIR": str(home), "MONCHECK_DEBIAN_MIRROR": REFUSED}, tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("moncheck setup: error: cannot reach the Debian suite(s) testing, unstable")
    assert "Connection refused" in lines[0] and "MONCHECK_TOOLCHAIN=2" in lines[0]
    assert not list(home.iterdir())  # no half-written toolchain, no apt indexes


def test_second_run_needs_no_network() -> None:
    need("3")
    home = toolchain.home()
    r = _fetch({"MONCHECK_TOOLCHAIN_DIR": str(home), "MONCHECK_DEBIAN_MIRROR": REFUSED}, Path.cwd())
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ("moncheck setup: toolchain 3 ready (prometheus 3.5.3+ds1-6, "
                                "promtool 3.5.3+ds1-6, prometheus-alertmanager 0.33.1-5)")


def test_each_toolchain_resolves_its_own_binaries(monkeypatch: pytest.MonkeyPatch) -> None:
    need("3")
    need("2")
    monkeypatch.setenv("MONCHECK_TOOLCHAIN", "3")
    three = toolchain.record()
    assert three.text() == ("toolchain 3: prometheus 3.5.3+ds1, promtool 3.5.3+ds1, "
                            "alertmanager 0.33.1, amtool 0.33.1")
    assert toolchain.binary("promtool").startswith(str(toolchain.home()))
    monkeypatch.setenv("MONCHECK_TOOLCHAIN", "2")
    two = toolchain.record()
    assert two.versions["prometheus"].startswith("2.42") and two.versions["alertmanager"].startswith("0.25")
    assert not toolchain.binary("promtool").startswith(str(toolchain.home()))


def test_unknown_toolchain_and_missing_fetch_are_environment_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONCHECK_TOOLCHAIN", "9")
    with pytest.raises(toolchain.UnknownToolchain, match="unknown toolchain '9': use one of 3, 2"):
        toolchain.binary("promtool")
    monkeypatch.setenv("MONCHECK_TOOLCHAIN", "3")
    monkeypatch.setenv("MONCHECK_TOOLCHAIN_DIR", str(tmp_path))
    with pytest.raises(toolchain.ToolMissing, match=r"toolchain 3 is not installed in .*: run `make setup`"):
        toolchain.binary("prometheus")


def test_single_binary_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONCHECK_PROMTOOL", str(tmp_path / "nope"))
    with pytest.raises(toolchain.ToolMissing, match="MONCHECK_PROMTOOL=.*nope is not executable"):
        toolchain.binary("promtool")


V3_RULES = """\
groups:
  - name: g
    query_offset: 1m
    labels:
      team: platform
    rules:
      - alert: DotMetric
        expr: '{"http.server.requests", job="x"} > 1'
"""


def test_v3_only_syntax_is_found_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "r.yml"
    f.write_text(V3_RULES)
    assert syntax.v3_only(f) == (3, "group `query_offset`")
    f.write_text(V3_RULES.replace("    query_offset: 1m\n    labels:\n      team: platform\n", ""))
    assert syntax.v3_only(f) == (5, "a UTF-8 quoted metric or label name")
    f.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up{job=\"x\"} == 0\n")
    assert syntax.v3_only(f) is None


def test_v3_rules_on_toolchain_2_are_checked_by_promtool_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("3")
    need("2")
    f = tmp_path / "r.yml"
    f.write_text(V3_RULES)
    # What the gate used to do: promtool 2.42 rejects the valid file as invalid YAML.
    old = subprocess.run([toolchain.binary("promtool", "2"), "check", "rules", str(f)],
                         capture_output=True, text=True, check=False)
    assert old.returncode != 0 and "field query_offset not found" in old.stdout + old.stderr
    monkeypatch.setenv("MONCHECK_TOOLCHAIN", "2")
    assert pt.check_rules([f], tmp_path) == []
    f.write_text(V3_RULES.replace("> 1", "> > 1"))
    (finding,) = pt.check_rules([f], tmp_path)
    assert (finding.path, finding.line, finding.check) == ("r.yml", 8, "promtool/check-rules")
    assert finding.message.endswith("[promtool 3.5.3+ds1, toolchain 3]")


def test_v3_rules_without_toolchain_3_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("2")
    f = tmp_path / "r.yml"
    f.write_text(V3_RULES)
    monkeypatch.setenv("MONCHECK_TOOLCHAIN", "2")
    monkeypatch.setenv("MONCHECK_TOOLCHAIN_DIR", str(tmp_path / "none"))
    (finding,) = pt.check_rules([f], tmp_path)
    assert finding.text().startswith(
        "r.yml:3: error: promtool/check-rules: uses group `query_offset`, which needs Prometheus 3; "
        "the promtool 2.42.0+ds, toolchain 2 cannot check it")


V3_TEST = """\
rule_files: [r.yml]
evaluation_interval: 1m
tests:
  - name: fires
    interval: 1m
    input_series:
      - series: '{__name__="http.server.requests", job="x"}'
        values: '5x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: DotMetric
        exp_alerts:
          - exp_labels: {job: x, team: platform}
"""


def test_rule_unit_tests_of_v3_rules_run_on_promtool_3_from_toolchain_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("3")
    need("2")
    (tmp_path / "r.yml").write_text(V3_RULES.replace("    query_offset: 1m\n", ""))
    t = tmp_path / "r.test.yml"
    t.write_text(V3_TEST)
    old = subprocess.run([toolchain.binary("promtool", "2"), "test", "rules", t.name], cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    assert old.returncode != 0
    monkeypatch.setenv("MONCHECK_TOOLCHAIN", "2")
    assert pt.promtool_for_tests(t) == toolchain.binary("promtool", "3")
    assert pt.test_rules([t], tmp_path) == []
    ok, out = pt.run_test_group(t, 0)
    assert ok, out
