"""The one Prometheus duration parser, and every schema's duration pattern agreeing with it.

Expected values are Prometheus' ``model.ParseDuration`` (prometheus/common ``model/time.go``);
``test_promtool_agrees`` asks the real promtool about the same table.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from moncheck import durations, resources
from moncheck.tools import ToolMissing, find_binary

VALID = [
    ("0", 0), ("0s", 0), ("5m", 300_000), ("1h30m", 5_400_000), ("1500ms", 1500), ("1s500ms", 1500),
    ("4w", 2_419_200_000), ("1y", 31_536_000_000), ("1y2w3d4h5m6s7ms", 33_019_506_007),
    ("90m", 5_400_000), ("007s", 7000), ("1h0m", 3_600_000), ("1m5ms", 60_005),
    ("292y", 292 * 31_536_000_000),
]
INVALID = [
    "", "5", "00", "1.5h", "30m1h", "1s1m", "5m5m", "5mm", "1sm", "-5m", "+5m", "5 m", " 30s", "30s ",
    "30s\n", "5M", "1H", "1d1y", "ms", "m5", "1µs", "1ns", "\u0665s", "1h30", "293y", "9223372036855ms",
]


@pytest.mark.parametrize(("text", "ms"), VALID, ids=[v[0] for v in VALID])
def test_parse(text: str, ms: int) -> None:
    assert durations.parse_ms(text) == ms


@pytest.mark.parametrize("text", INVALID, ids=[repr(v) for v in INVALID])
def test_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        durations.parse_ms(text)


@pytest.mark.parametrize("value", [None, 300, 1.5, True], ids=["none", "int", "float", "bool"])
def test_non_strings_are_invalid(value: Any) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        durations.parse_ms(value)


def _promtool_accepts(tmp: Path, text: str) -> bool:
    rule = tmp / "r.yml"
    rule.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: " + json.dumps(text) + "\n")
    proc = subprocess.run([find_binary("promtool"), "check", "rules", str(rule)], capture_output=True, text=True, check=False)
    return proc.returncode == 0


def test_promtool_agrees(tmp_path: Path) -> None:
    try:
        find_binary("promtool")
    except ToolMissing as e:
        pytest.skip(str(e))
    table = [v for v, _ in VALID] + INVALID
    disagree = [t for t in table if _promtool_accepts(tmp_path, t) != durations.is_valid(t)]
    assert disagree == []


# ---------------------------------------------------------------------------- schemas


def _duration_nodes(node: Any, where: str) -> list[tuple[str, dict]]:
    """Every schema node that describes a duration string: a `format: duration`, or a pattern that
    mentions duration units (so a hand-written duration pattern cannot hide)."""
    out: list[tuple[str, dict]] = []
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if node.get("format") == durations.FORMAT or (isinstance(pattern, str) and "ms" in pattern):
            out.append((where, node))
        for k, v in node.items():
            out += _duration_nodes(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _duration_nodes(v, f"{where}/{i}")
    return out


SCHEMAS = sorted(resources.schema_dir().glob("*.schema.json"))
NODES = [(p.name + w, n) for p in SCHEMAS for w, n in _duration_nodes(json.loads(p.read_text()), "#")]


def test_schemas_have_duration_patterns() -> None:
    files = {w.split("#")[0] for w, _ in NODES}
    assert {"rules.schema.json", "policy.schema.json", "slo.schema.json", "uptime.schema.json"} <= files


@pytest.mark.parametrize("node", [n for _, n in NODES], ids=[w for w, _ in NODES])
def test_schema_duration_pattern_agrees_with_the_parser(node: dict) -> None:
    assert node.get("pattern") == durations.SCHEMA_PATTERN and node.get("format") == durations.FORMAT
    pattern = re.compile(node["pattern"])  # jsonschema applies patterns with re.search
    table = [v for v, _ in VALID] + INVALID
    disagree = [t for t in table if (pattern.search(t) is not None) != durations.is_valid(t) and not _overflow(t)]
    assert disagree == []


def _overflow(text: str) -> bool:
    # The one rule a pattern cannot express; `format: duration` (checked by the validator) does.
    return text in ("293y", "9223372036855ms")


def test_schema_validation_rejects_overflow_through_the_format(tmp_path: Path) -> None:
    from moncheck.checks.base import validator_for_kind

    v = validator_for_kind(tmp_path, "rules")
    rule = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up", "for": "293y"}]}]}
    assert [e.message for e in v.iter_errors(rule)] != []
    rule["groups"][0]["rules"][0]["for"] = "292y"
    assert list(v.iter_errors(rule)) == []
