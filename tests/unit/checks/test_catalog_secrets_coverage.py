from __future__ import annotations

import pytest
from checkhelp import alert, rules

from moncheck.checks import catalog as C
from moncheck.checks import coverage as V
from moncheck.checks import misc as M
from moncheck.checks import secrets as S

CAT = "monitoring/catalog/metrics.yml"


def metric(labels: str) -> str:
    return f"metrics:\n  - name: x_total\n    type: counter\n    help: h\n    labels:\n{labels}"


CARD_CASES = [
    ("bounded", "      a: {values: [x, y]}\n      b: {bound: 10}\n", 0),
    ("forbidden", "      user_id: {bound: 10}\n", 1),
    ("unbounded", "      a: {description: free text}\n", 1),
    ("bound-too-big", "      a: {bound: 5000}\n", 1),
]


@pytest.mark.parametrize("labels,n", [c[1:] for c in CARD_CASES], ids=[c[0] for c in CARD_CASES])
def test_high_cardinality(repo, labels, n) -> None:
    ctx = repo({CAT: metric(labels)}, catalog=False)
    found = C.catalog_high_cardinality(ctx)
    assert len(found) == n, found
    assert all(f.line == 6 for f in found)


def test_catalog_schema_and_duplicates(repo) -> None:
    text = "metrics:\n  - name: a_total\n    type: counter\n    help: h\n  - name: a_total\n    type: countr\n    help: h\n"
    ctx = repo({CAT: text}, catalog=False)
    assert sorted((f.line, f.severity.value) for f in C.schema_catalog(ctx)) == [(5, "error"), (6, "error")]


SECRET_CASES = [
    ("slack-webhook", "api_url: https://hooks.slack.com/services/T0/B0/abc\n", 1),
    ("routing-key", "routing_key: 'abcdef0123456789abcdef0123456789'\n", 1),
    ("password", "  smtp_auth_password: hunter2\n", 1),
    ("password-file", "smtp_auth_password_file: /etc/alertmanager/secrets/smtp\n", 0),
    ("env-reference", "password: ${SMTP_PASSWORD}\n", 0),
    ("local-sink", "api_url: http://127.0.0.1:9999/slack\n", 0),
    ("empty", "password: ''\n", 0),
    ("comment", "# password: hunter2\n", 1),
    ("json", '{"password": "hunter2"}\n', 1),
    ("github-token", "note: ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6" + "\n", 1),
]


@pytest.mark.parametrize("text,n", [c[1:] for c in SECRET_CASES], ids=[c[0] for c in SECRET_CASES])
def test_secrets_inline(repo, text, n) -> None:
    ctx = repo({"monitoring/alertmanager/alertmanager.yml": text})
    assert len(S.secrets_inline(ctx)) == n


def test_secrets_prose_only_patterns(repo) -> None:
    ctx = repo({"monitoring/runbooks/X.md": "Set password: in the vault.\nhttps://hooks.slack.com/services/T/B/c\n"})
    assert [f.line for f in S.secrets_inline(ctx)] == [2]


TEST_FILE = """\
rule_files: [../../monitoring/prometheus/rules/r.yml]
tests:
  - interval: 1m
    input_series: []
    alert_rule_test:
      - {eval_time: 5m, alertname: TargetDown, exp_alerts: [{exp_labels: {severity: high}}]}
      - {eval_time: 5m, alertname: Silent, exp_alerts: []}
"""


def test_untested(repo) -> None:
    ctx = repo({"monitoring/prometheus/rules/r.yml": rules(alert(), alert(name="Silent"), alert(name="Other")),
                "tests/rules/r.test.yml": TEST_FILE})
    assert [(f.check, f.line) for f in V.alerts_untested(ctx)] == [("alerts/untested", 14), ("alerts/untested", 24)]


def test_uptime_schema_and_envs(repo) -> None:
    ctx = repo({"monitoring/uptime/local.yml": "environment: local\nchecks:\n  - {name: h, url: /health, expected_status: 99}\n"})
    found = M.schema_uptime(ctx)
    assert ("monitoring/uptime/local.yml", 3) in {(f.path, f.line) for f in found}
    assert {f.message for f in found if f.path == "monitoring/uptime"} == {
        "no uptime checks for environment 'staging'", "no uptime checks for environment 'production'"}


def test_uptime_environment_matches_file_name(repo) -> None:
    ok = "environment: {0}\nchecks:\n  - {{name: h, url: /health, interval: 30, timeout: 5, expected_status: 200}}\n"
    ctx = repo({f"monitoring/uptime/{e}.yml": ok.format(e) for e in ("local", "staging")}
               | {"monitoring/uptime/production.yml": ok.format("staging")})
    assert [(f.path, f.line) for f in M.schema_uptime(ctx)] == [("monitoring/uptime/production.yml", 1)]
