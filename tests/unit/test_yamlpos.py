"""The YAML loader keeps lines and turns every parse problem into a located LoadError."""

import os
from pathlib import Path

import pytest

from moncheck import atomic, jsonpos, promql, yamlpos


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


# ----------------------------------------------------------------------------- hostile input



@pytest.mark.parametrize(
    "text, line, message",
    [
        ("a: " + "[" * 5000 + "]" * 5000, 1, "nested too deeply (more than 100 levels) at line 1, column 103"),
        ("".join(" " * i + "k:\n" for i in range(150)) + " " * 150 + "k: 1\n", 101,
         "nested too deeply (more than 100 levels) at line 101, column 101"),
        ("a: 1\nb: x\x01y\n", 2, "invalid YAML: control character U+0001 at column 5"),
        ("a: 1\nwhen: 2001-13-45\n", 2, "invalid YAML at column 7: cannot read '2001-13-45': month must be in 1..12"),
        ("a: " + "1" * 5000 + "\n", 1, "invalid YAML at column 4: cannot read '1111"),
        ("a: 0b" + "1" * 5000 + "\n", 1, "invalid YAML at column 4: number too large"),
    ],
    ids=["deep-flow", "deep-block", "control-char", "bad-date", "huge-int", "huge-binary"],
)
def test_hostile_yaml_is_one_located_line(text: str, line: int, message: str) -> None:
    with pytest.raises(yamlpos.LoadError) as e:
        yamlpos.loads(text, "f.yml")
    assert (e.value.path, e.value.line) == ("f.yml", line)
    assert e.value.message.startswith(message), e.value.message
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ('{\n "a": ' + "[" * 5000 + "]" * 5000 + "}", 2, "nested too deeply (more than 100 levels) at line 2, column 106"),
        ('{"s": "' + "[" * 300 + '"}', None, None),
        ('{"a": ' + "1" * 5000 + "}", 1, "invalid JSON at column 7: Exceeds the limit"),
        ('{\n  "a": 1,\n  "b": [1 2]\n}', 3, "invalid JSON at column 11: Expecting ',' delimiter"),
    ],
    ids=["deep", "brackets-in-string", "huge-int", "syntax"],
)
def test_hostile_json_is_one_located_line(text: str, line: int | None, message: str | None) -> None:
    if line is None:
        assert jsonpos.loads(text, "d.json")["s"].startswith("[[[")
        return
    with pytest.raises(yamlpos.LoadError) as e:
        jsonpos.loads(text, "d.json")
    assert (e.value.path, e.value.line) == ("d.json", line)
    assert e.value.message.startswith(message), e.value.message


def test_non_utf8_is_located_at_the_bad_byte(tmp_path: Path) -> None:
    p = tmp_path / "r.yml"
    p.write_bytes(b"groups:\n  - name: caf\xe9\n")
    with pytest.raises(yamlpos.LoadError) as e:
        yamlpos.load(p, "r.yml")
    assert (e.value.line, e.value.message) == (2, "not UTF-8: byte 0xe9 at column 14 (save the file as UTF-8)")


def test_bom_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "r.yml"
    p.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert yamlpos.load(p) == {"a": 1}


@pytest.mark.parametrize("kind", ["fifo", "dangling", "loop", "directory"])
def test_only_regular_files_are_opened(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "x.yml"
    expected = {
        "fifo": "is a FIFO (named pipe), not a regular file: not read",
        "dangling": "dangling symlink (points to 'nowhere.yml', which does not exist)",
        "loop": "symlink loop: not read",
        "directory": "is a directory, not a regular file: not read",
    }[kind]
    if kind == "fifo":
        os.mkfifo(p)  # opening it would block this test forever
    elif kind == "dangling":
        p.symlink_to("nowhere.yml")
    elif kind == "loop":
        p.symlink_to("x.yml")
    else:
        p.mkdir()
    with pytest.raises(yamlpos.LoadError) as e:
        yamlpos.load(p, "x.yml")
    assert (e.value.line, e.value.message) == (1, expected)


def test_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlpos, "MAX_BYTES", 10)
    p = tmp_path / "big.yml"
    p.write_text("a: 123456789\n")
    with pytest.raises(yamlpos.LoadError, match=r"file too large \(13 bytes; the limit is 10\)"):
        yamlpos.load(p, "big.yml")


@pytest.mark.parametrize(
    "expr",
    ["(" * 20000 + "up" + ")" * 20000, " + ".join(["up"] * 5000), "-" * 20000 + "1", "x" * 200_001],
    ids=["parens", "operator-chain", "unary-chain", "long"],
)
def test_promql_guard_refuses_what_would_crash_the_parser(expr: str) -> None:
    err = promql.analyze(expr).error
    assert err is not None and err.startswith("expression too") and err.endswith("not parsed")
    with pytest.raises(ValueError, match="^expression too"):
        promql.parse(expr)


def test_promql_guard_passes_real_expressions() -> None:
    expr = 'sum by (job) (rate(http_requests_total{status_code=~"5..", route!="a-b"}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05'
    assert promql.complexity_error(expr) is None
    assert promql.analyze(expr).ok
