"""Differential test: the model's route walk against the real ``amtool config routes test``.

Each config is routed by both for a fixed, seeded sample of label sets built from values chosen
to sit on the edges (quoting, commas, escaped quotes, regex anchoring and alternation, negative
regexes, legacy ``match``/``match_re``, absent labels, ``continue``, nested routes). Any
disagreement fails with the label set and both answers.
"""

from __future__ import annotations

import itertools
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from moncheck import alertmanager as am
from moncheck import yamlpos
from moncheck.tools import ToolError, ToolMissing, amtool, find_binary

ROOT = Path(__file__).resolve().parents[2]

try:
    find_binary("amtool")
except ToolMissing as e:  # pragma: no cover
    if os.environ.get("CI"):
        raise
    pytest.skip(str(e), allow_module_level=True)

EDGES = """\
route:
  receiver: root
  group_by: [alertname]
  routes:
    - receiver: comma
      matchers: ['msg="a,b"']
    - receiver: escaped-quote
      matchers: ['msg="say \\"hi\\""']
    - receiver: anchored
      matchers: ['sev=~"crit"']
    - receiver: alternation
      matchers: ['sev=~"warn|info"']
      continue: true
    - receiver: negative
      matchers: ['team!~"db.*"', 'sev="high"']
    - receiver: legacy
      match: {env: prod}
      match_re: {region: "eu-.*"}
    - receiver: absent-is-empty
      matchers: ['owner=""', 'sev=~".+"']
      continue: true
      routes:
        - {receiver: nested-a, matchers: ['team=~"web|db"'], continue: true}
        - {receiver: nested-b, matchers: ['{env="prod", region!="eu-west"}']}
    - receiver: brace-list
      matchers: ['{team="db", sev!~"crit.*"}']
    - receiver: dot-star-suffix
      matchers: ['msg=~"x.*"']
receivers:
  - {name: root}
  - {name: comma}
  - {name: escaped-quote}
  - {name: anchored}
  - {name: alternation}
  - {name: negative}
  - {name: legacy}
  - {name: absent-is-empty}
  - {name: nested-a}
  - {name: nested-b}
  - {name: brace-list}
  - {name: dot-star-suffix}
"""

POOLS = {
    "msg": [None, "a,b", 'say "hi"', "x", "xy", "say hi"],
    "sev": [None, "crit", "critical", "warn", "info", "high", "warn|info", "WARN"],
    "team": [None, "db", "dba", "web"],
    "env": [None, "prod", "production"],
    "region": [None, "eu-west", "us-eu-1", "eu-"],
    "owner": [None, "me"],
}
SAMPLE = 120


# RE2 against Python's re: each route one regex feature whose spelling differs between the two.
REGEX = """\
route:
  receiver: root
  routes:
    - {receiver: case-flag, matchers: ['a=~"(?i)warn"']}
    - {receiver: posix-class, matchers: ['b=~"[[:upper:]]+"']}
    - {receiver: ascii-digit, matchers: ['c=~"\\\\d{2}"']}
    - {receiver: dollar, matchers: ['d=~"x$"']}
    - {receiver: quote-meta, matchers: ['e=~"\\\\Qa.b\\\\E"']}
    - {receiver: literal-brace, matchers: ['f=~"a{,2}"']}
    - {receiver: bracket-first, matchers: ['g=~"[]a]"']}
    - {receiver: negated-bracket-first, matchers: ['h=~"[^]a]"']}
    - {receiver: end-of-text, matchers: ['i=~"x\\\\z"']}
    - {receiver: yaml-int, match: {code: 500}}
    - {receiver: yaml-bool, match: {page: true}}
receivers: [{name: root}, {name: case-flag}, {name: posix-class}, {name: ascii-digit}, {name: dollar},
            {name: quote-meta}, {name: literal-brace}, {name: bracket-first}, {name: negated-bracket-first},
            {name: end-of-text}, {name: yaml-int}, {name: yaml-bool}]
"""
REGEX_VALUES = {
    "a": ["WARN", "warn", "Warning"], "b": ["ABC", "AbC"], "c": ["12", "123", "\u0661\u0662"], "d": ["x", "xx"],
    "e": ["a.b", "axb"], "f": ["a{,2}", "a", "aa", ""], "g": ["]", "a", "b"], "h": ["b", "]", "a"], "i": ["x", "xy"],
    "code": ["500"], "page": ["true", "True"],
}


def _label_sets() -> list[dict[str, str]]:
    names = list(POOLS)
    every = list(itertools.product(*(POOLS[n] for n in names)))
    rng = random.Random(9)  # fixed: the same sample on every run
    picked = rng.sample(every, SAMPLE)
    return [{n: v for n, v in zip(names, combo) if v is not None} for combo in picked]


def _repo_label_sets() -> list[dict[str, str]]:
    sev = [None, "critical", "high", "warning", "info", "page", "Critical"]
    names = ["HighErrorRate", "TargetDown"]
    return [
        {"alertname": n, "job": "gocarbon-api", **({"severity": s} if s else {})}
        for n, s in itertools.product(names, sev)
    ]


def _compare(config: Path, label_sets: list[dict[str, str]]) -> tuple[int, list[str]]:
    model = am.parse_config(yamlpos.load(config), str(config))

    def one(labels: dict[str, str]) -> str | None:
        want = amtool.routes(config, labels)
        got = model.receivers_for(labels)
        return None if got == want else f"{labels}: model {got}, amtool {want}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        diffs = [d for d in pool.map(one, label_sets) if d]
    return len(label_sets), diffs


def test_model_agrees_with_amtool_on_edge_cases(tmp_path: Path) -> None:
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(EDGES, encoding="utf-8")
    n, diffs = _compare(cfg, _label_sets())
    assert n == SAMPLE and not diffs, "\n".join(diffs)


def test_model_agrees_with_amtool_on_re2_regex_features(tmp_path: Path) -> None:
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(REGEX, encoding="utf-8")
    sets = [{k: v} for k, vs in REGEX_VALUES.items() for v in vs if v] + [{}]
    n, diffs = _compare(cfg, sets)
    assert n == 27 and not diffs, "\n".join(diffs)
    reached = {r for labels in sets for r in am.parse_config(yamlpos.load(cfg), "x").receivers_for(labels)}
    assert len(reached) == 12  # every route is reached by some label set


def test_model_agrees_with_amtool_on_this_repository() -> None:
    n, diffs = _compare(ROOT / "monitoring/alertmanager/alertmanager.yml", _repo_label_sets())
    assert n == 14 and not diffs, "\n".join(diffs)


def test_the_sample_exercises_every_route(tmp_path: Path) -> None:
    # A sample that never reaches a route would prove nothing about it.
    model = am.parse_config(yamlpos.loads(EDGES, "am.yml"), "am.yml")
    reached = {r for labels in _label_sets() for r in model.receivers_for(labels)}
    assert set(model.receivers) - reached == set()


def test_amtool_also_rejects_every_config_the_model_rejects(tmp_path: Path) -> None:
    from test_alertmanager_model import BAD_CONFIGS

    accepted = []
    for name, text, _, _ in BAD_CONFIGS:
        cfg = tmp_path / f"{name}.yml"
        cfg.write_text(text, encoding="utf-8")
        try:
            amtool.routes(cfg, {"a": "b"})
            accepted.append(name)
        except ToolError:
            pass
    assert accepted == []
