"""The YAML loader keeps lines and turns every parse problem into a located LoadError."""

from pathlib import Path

import pytest

from moncheck import atomic, yamlpos


def test_lines_of_keys_and_items():
    doc = yamlpos.loads("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n")
    group = doc["groups"][0]
    assert doc.line_of("groups") == 1
    assert group.line == 2
    assert group["rules"][0].line_of("expr") == 5
    assert doc["groups"].item_lines == [2]


@pytest.mark.parametrize(
    "text, line",
    [
        ("a: 1\nb: [1, 2\n", 3),
        ("a: 1\na: 2\n", 2),
        ("a:\n  - x\n - y\n", 3),
    ],
    ids=["unclosed-flow", "duplicate-key", "bad-indent"],
)
def test_errors_are_located(text, line):
    with pytest.raises(yamlpos.LoadError) as e:
        yamlpos.loads(text, "f.yml")
    assert e.value.path == "f.yml"
    assert e.value.line == line
    assert str(e.value).startswith(f"f.yml:{line}: invalid YAML")


def test_missing_file(tmp_path: Path):
    with pytest.raises(yamlpos.LoadError, match="file not found"):
        yamlpos.load(tmp_path / "nope.yml", "nope.yml")


def test_atomic_write_replaces_whole_file(tmp_path: Path):
    target = tmp_path / "sub" / "out.txt"
    atomic.write_text(target, "one")
    atomic.write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]
