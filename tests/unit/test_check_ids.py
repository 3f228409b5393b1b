"""Check ids are public: the ids the code emits, the pages under docs/checks/ and the ids a
suppression may name are one set (``moncheck.checks.registry.known_ids``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from moncheck.checks.registry import known_ids
from moncheck.gate import _check_suppression_ids
from moncheck.policy import from_data

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "moncheck"
DOCS = ROOT / "docs" / "checks"
ID = re.compile(r"^[a-z]+/[a-z0-9]+(?:-[a-z0-9]+)*$")
FAMILIES = {i.split("/")[0] for i in known_ids()} | {d.name for d in DOCS.iterdir() if d.is_dir()}


def emitted_ids() -> dict[str, str]:
    """Every id-shaped string constant of a check family in the engine's source (id -> a file
    using it); ids are literals or module constants, so a new one cannot hide from this."""
    out: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "registry.py":
            continue  # the registry declares ids; the test is whether code uses them
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_id = isinstance(node, ast.Constant) and isinstance(node.value, str) and ID.match(node.value)
            # `tests/rules` is a folder of this repository, not the check family `tests/`.
            if is_id and node.value.split("/")[0] in FAMILIES and not (ROOT / node.value).exists():
                out.setdefault(node.value, str(path.relative_to(ROOT)))
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                head = str(node.values[0].value)
                assert not (head.endswith("/") and head[:-1] in FAMILIES), f"{path}: dynamic check id f'{head}...'"
    return out


def documented_ids() -> set[str]:
    return {p.relative_to(DOCS).with_suffix("").as_posix() for p in DOCS.rglob("*.md") if p.name != "README.md"}


def listed_ids() -> set[str]:
    return set(re.findall(r"^\| \[`([^`]+)`\]\(\1\.md\)", (DOCS / "README.md").read_text(), re.MULTILINE))


def test_emitted_ids_are_the_known_ids() -> None:
    emitted = emitted_ids()
    assert {i: f for i, f in emitted.items() if i not in known_ids()} == {}, "emitted but not registered"
    assert sorted(known_ids() - set(emitted)) == [], "registered but never emitted"


def test_documented_ids_are_the_known_ids() -> None:
    assert sorted(documented_ids() ^ known_ids()) == []
    assert sorted(listed_ids() ^ known_ids()) == []


def test_suppressions_accept_exactly_the_known_ids() -> None:
    names = [*sorted(known_ids()), "amtool/no-such-check", "alertmanager/routing", "nope"]
    data = {"suppressions": [{"check": n, "target": "*", "reason": "r"} for n in names]}
    warned = {f.message.split("'")[1] for f in _check_suppression_ids(from_data(data, "policies/policy.yml"), [])}
    assert warned == {"amtool/no-such-check", "alertmanager/routing", "nope"}
