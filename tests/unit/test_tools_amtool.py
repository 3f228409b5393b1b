"""amtool wrapper against small real configs and the real amtool."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from moncheck import yamlpos
from moncheck.tools import ToolMissing, find_binary
from moncheck.tools import amtool as am

try:
    find_binary("amtool")
except ToolMissing as e:  # pragma: no cover
    pytest.skip(str(e), allow_module_level=True)

CONFIG = """\
global:
  resolve_timeout: 5m
templates:
  - templates/*.tmpl
route:
  receiver: slack-alerts
  group_by: [alertname]
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty-critical
      continue: true
    - matchers: ['severity="critical"']
      receiver: slack-critical
    - matchers: ['severity=~"high"']
      receiver: email-engineering
receivers:
  - name: slack-alerts
    slack_configs:
      - channel: '#alerts'
        api_url_file: /nonexistent/moncheck/slack-url
  - name: slack-critical
    slack_configs:
      - channel: '#critical-alerts'
        api_url_file: /nonexistent/moncheck/slack-url
  - name: pagerduty-critical
    pagerduty_configs:
      - routing_key_file: /nonexistent/moncheck/pd-key
  - name: email-engineering
    email_configs:
      - to: eng@example.com
        from: am@example.com
        smarthost: 127.0.0.1:25
        auth_username: am
        auth_password_file: /nonexistent/moncheck/smtp-password
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"""


def put(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_valid_config_with_missing_secret_files(tmp_path: Path) -> None:
    # *_file secrets are read only when notifying: check-config must pass without them.
    cfg = put(tmp_path, "am/alertmanager.yml", CONFIG)
    put(tmp_path, "am/templates/a.tmpl", '{{ define "x" }}ok{{ end }}\n')
    assert am.check_config(cfg, tmp_path) == []


@pytest.mark.parametrize(
    ("replace", "line", "text"),
    [
        (("  resolve_timeout: 5m\n", "  resolve_timeout: 5m\n  bogus: 1\n"), 3, "field bogus not found"),
        (("  receiver: slack-alerts\n  group_by", "  receiver: nobody\n  group_by"), 6, 'undefined receiver "nobody"'),
        (("routes:\n", "routes: [\n"), 9, "invalid YAML"),
    ],
    ids=["unknown-field", "undefined-receiver", "bad-yaml"],
)
def test_config_errors(tmp_path: Path, replace: tuple[str, str], line: int, text: str) -> None:
    cfg = put(tmp_path, "alertmanager.yml", CONFIG.replace(*replace))
    (f,) = am.check_config(cfg, tmp_path)
    assert f.check == "amtool/check-config" and f.path == "alertmanager.yml"
    assert text in f.message
    if text != "invalid YAML":  # Go's YAML parser reports some syntax errors at odd lines
        assert f.line == line


def test_template_error_points_at_template(tmp_path: Path) -> None:
    cfg = put(tmp_path, "am/alertmanager.yml", CONFIG)
    put(tmp_path, "am/templates/bad.tmpl", '{{ define "x" }}\n{{ .Foo \n')
    (f,) = am.check_config(cfg, tmp_path)
    assert f.path == "am/templates/bad.tmpl" and f.line >= 1


def test_missing_config(tmp_path: Path) -> None:
    (f,) = am.check_config(tmp_path / "nope.yml", tmp_path)
    assert (f.path, f.line, f.message) == ("nope.yml", 1, "file not found")


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ({"severity": "critical", "alertname": "A"}, ["pagerduty-critical", "slack-critical"]),
        ({"severity": "high"}, ["email-engineering"]),
        ({"severity": "info"}, ["slack-alerts"]),
        ({}, ["slack-alerts"]),
        ({"severity": "critical", "summary": 'has "quotes", commas'}, ["pagerduty-critical", "slack-critical"]),
    ],
    ids=["critical-continue", "high", "default", "no-labels", "odd-values"],
)
def test_routes(tmp_path: Path, labels: dict, receivers: list) -> None:
    cfg = put(tmp_path, "alertmanager.yml", CONFIG)
    assert am.routes(cfg, labels) == receivers


ROUTING_TESTS = """\
tests:
  - name: critical pages
    labels: {alertname: A, severity: critical}
    receivers: [pagerduty-critical, slack-critical]
  - name: wrong receivers
    labels: {severity: high}
    receivers: [slack-alerts]
  - name: critical mutes warning
    inhibit:
      source: {alertname: A, severity: critical}
      target: {alertname: A, severity: warning}
      inhibited: true
  - name: wrong inhibition expectation
    inhibit:
      source: {alertname: A, severity: critical}
      target: {alertname: B, severity: warning}
      inhibited: true
  - labels: {severity: info}
    receivers: [slack-alerts]
inhibit_tests:
  - name: malformed
    inhibit: {source: {a: b}}
"""


def test_routing_tests(tmp_path: Path) -> None:
    cfg = put(tmp_path, "am/alertmanager.yml", CONFIG)
    tests = put(tmp_path, "am/routing-tests.yml", ROUTING_TESTS)
    found = am.run_routing_tests(cfg, tests, tmp_path)
    assert [(f.path, f.line) for f in found] == [
        ("am/routing-tests.yml", 5), ("am/routing-tests.yml", 13), ("am/routing-tests.yml", 18), ("am/routing-tests.yml", 21)
    ]
    assert all(f.check == "amtool/routing-tests" for f in found)
    assert "['email-engineering'], expected ['slack-alerts']" in found[0].message
    assert 'routing test "wrong inhibition expectation"' in found[1].message
    assert "needs a `name`" in found[2].message


def test_routing_case_by_index(tmp_path: Path) -> None:
    cfg = put(tmp_path, "alertmanager.yml", CONFIG)
    tests = put(tmp_path, "routing-tests.yml", ROUTING_TESTS)
    names = [c.name for c in am.routing_cases(tests, tmp_path)]
    assert names[:2] == ["critical pages", "wrong receivers"] and names[4] == "tests[5]"
    assert am.run_routing_case(cfg, tests, tmp_path, 0) is None
    assert am.run_routing_case(cfg, tests, tmp_path, 1) is not None


@pytest.mark.parametrize("text", ["cases: []\n", "- {name: a, labels: {a: b}, receivers: [x]}\n"],
                         ids=["unknown-layout", "list-form"])
def test_routing_tests_bad_layout_is_one_located_finding(tmp_path: Path, text: str) -> None:
    cfg = put(tmp_path, "alertmanager.yml", CONFIG)
    tests = put(tmp_path, "routing-tests.yml", text)
    (f,) = am.run_routing_tests(cfg, tests, tmp_path)
    assert (f.check, f.path, f.line) == ("amtool/routing-tests", "routing-tests.yml", 1)
    assert f.message.startswith("routing tests not run: not a routing-tests file: expected a mapping")
    with pytest.raises(yamlpos.LoadError, match="tests"):
        am.routing_cases(tests, tmp_path)
