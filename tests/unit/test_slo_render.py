"""The generated YAML is byte-identical with the fast path (libyaml's C emitter fed a node tree
built directly, memoised resolution) and with PyYAML's own pure-Python SafeDumper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import repo_with
from moncheck import slo
from moncheck.slo import generate, render

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests/fixtures/slo"


def test_the_fast_path_uses_libyaml() -> None:
    assert yaml.__with_libyaml__ and issubclass(render._Dumper, yaml.CSafeDumper)


def _documents(repo: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The data of every file ``slo.plan(repo)`` renders."""
    seen: list[Any] = []
    fast = render.dump

    def spy(data: Any, dumper: type = render._Dumper) -> str:
        seen.append(data)
        return fast(data, dumper)

    monkeypatch.setattr(render, "dump", spy)
    monkeypatch.setattr(generate, "dump", spy)
    assert slo.plan(repo).ok
    monkeypatch.undo()
    return seen


def test_every_generated_file_is_byte_identical_to_pure_python_pyyaml(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, *sorted((FIX / "good").glob("*.yml")),
                     *sorted((ROOT / "monitoring/slos").glob("*.yml")))
    seen = _documents(repo, monkeypatch)
    assert len(seen) > 20
    for data in seen:
        assert render.dump(data) == render.dump(data, render.ReferenceDumper)


_scalars = (st.text(max_size=120) | st.sampled_from(
    ["true", "no", "2", "1.50", "0x1F", "1e3", "null", "~", "", " lead", "trail ", "a: b",
     "- x", "#c", "{{$labels.x}}", 'say "hi"', "tab\there", "l1\nl2\n", "l1\n  l2  \n", "é✓", "fire 🔥", "cr\r\n", "nel\x85",
     "x" * 100 + " " + "y" * 30]) | st.integers() | st.floats() | st.booleans() | st.none())
# Keys as generated files have them: never empty (label names, fixed keys). An empty key is
# where the emitters differ (libyaml writes `"": x`, PyYAML's Python emitter `? ""`). Text
# includes \r, NEL and emoji, which the fast path hands to the Python emitter.
_keys = st.text(min_size=1, max_size=12) | st.sampled_from(["true", "1", "a b", "é"])
_data = st.recursive(_scalars, lambda c: st.lists(c, max_size=4)
                     | st.dictionaries(_keys, c, max_size=4), max_leaves=20)


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _data, min_size=1))  # a generated file is a mapping
def test_any_data_is_byte_identical_to_pure_python_pyyaml(data: Any) -> None:
    assert render.dump(data) == render.dump(data, render.ReferenceDumper)


# Documents shaped like generated files (label maps, lists of checks, multi-line expressions,
# long strings with spaces, quotes and YAML indicators, numbers), so that most of them take the
# text writer (render._text) rather than the emitter; both must give PyYAML's bytes.
_words = st.text(alphabet=st.sampled_from(list("abcXYZ019_-.:{}=\"',#|>@&*!%`?[]/\\é ")),
                 max_size=140)
_lines = st.lists(st.text(alphabet=st.sampled_from(list("ab (){}=\" .:-#")), max_size=30),
                  min_size=1, max_size=4).map("\n".join)
_shaped_scalars = (_words | _lines | _lines.map(lambda s: s + "\n") | st.integers(-10**6, 10**6)
                   | st.floats(allow_nan=False, allow_infinity=False))
_shaped_keys = st.text(alphabet=st.sampled_from(list("abc_019-. ")), min_size=1, max_size=20)
_shaped = st.recursive(_shaped_scalars, lambda c: st.lists(c, min_size=1, max_size=4)
                       | st.dictionaries(_shaped_keys, c, min_size=1, max_size=4), max_leaves=25)


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_shaped_keys, _shaped, min_size=1, max_size=5))
def test_generated_shaped_data_is_byte_identical_to_pure_python_pyyaml(data: Any) -> None:
    assert render.dump(data) == render.dump(data, render.ReferenceDumper)


def test_the_text_writer_handles_the_generated_files(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every generated file of the project's spec goes through the text writer (not the
    emitter): the fast path is the one the byte-identity tests above exercise."""
    seen = _documents(repo_with(tmp_path, *sorted((ROOT / "monitoring/slos").glob("*.yml"))),
                      monkeypatch)
    assert seen and all(render._text(d) is not None for d in seen)


# Strings made of the characters analyze_scalar looks at (indicators, spaces, dots, dashes),
# printable ASCII and a few others that must go to PyYAML itself.
_analysed = st.text(alphabet=st.sampled_from(list("-.:?#,[]{}&*!|>'\"%@` ab\t\né\x85")),
                    max_size=12)


@settings(max_examples=3000, deadline=None, derandomize=True, database=None)
@given(_analysed)
def test_the_scalar_analysis_is_pyyamls(s: str) -> None:
    a = render._ANALYSER.analyze_scalar(s)
    assert render._analyse(s) == (a.empty, a.multiline, a.allow_block_plain,
                                  a.allow_single_quoted, a.allow_block), repr(s)


@pytest.mark.parametrize("s", ["---x", "...", "- a", "-a", "a:", "a: b", "a:b", "a #b", "a#b",
                               "?", "? a", ":", " a", "a ", "#", "%x", "a,b", "[a]", "x{y}"])
def test_the_scalar_analysis_of_indicators(s: str) -> None:
    a = render._ANALYSER.analyze_scalar(s)
    assert render._analyse(s) == (a.empty, a.multiline, a.allow_block_plain,
                                  a.allow_single_quoted, a.allow_block), repr(s)
