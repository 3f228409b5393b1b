"""JSON loading that keeps line numbers (the JSON twin of ``moncheck.yamlpos``).

Objects become ``yamlpos.LocDict`` with ``.line`` (line of the ``{``) and ``.key_lines``;
arrays become ``LocList`` with ``.line``. Built on the stdlib pure-Python scanner, whose
``parse_object``/``parse_array`` hooks receive the offset: we wrap them to record it.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from pathlib import Path
from typing import Any

from moncheck.yamlpos import (
    MAX_DEPTH,
    LoadError,
    LocDict,
    LocList,
    line_col,
    read_source,
)

_COLON = re.compile(r"\s*:")
_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def _too_deep(text: str) -> int | None:
    """Offset of the bracket that first nests deeper than ``MAX_DEPTH`` (strings skipped)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for m in _BRACKET_OR_STRING.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


class _Decoder(json.JSONDecoder):
    def __init__(self, text: str) -> None:
        super().__init__()
        self._nl = [i for i, c in enumerate(text) if c == "\n"]
        self._text = text
        self._keys: dict[int, dict[str, int]] | None = None
        self.parse_object = self._object
        self.parse_array = self._array
        self.memo: dict = {}
        # The pure-Python scanner calls parse_object/parse_array through the instance, so the
        # located constructors are used; these internals are not in typeshed.
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]

    def _line(self, idx: int) -> int:
        return bisect.bisect_left(self._nl, idx) + 1

    def _object(self, s_and_end: tuple[str, int], *args: Any, **kw: Any) -> tuple[Any, int]:
        _, start = s_and_end
        pairs, end = json.decoder.JSONObject(s_and_end, *args, **kw)  # type: ignore[attr-defined]
        d = LocDict(pairs)
        d.line = self._line(start - 1)
        d.key_lines = {}
        d.key_lines = self._keys_of(start - 1)
        return d, end

    def _keys_of(self, brace: int) -> dict[str, int]:
        """Key -> line of the object whose ``{`` is at offset ``brace`` (its own keys only)."""
        if self._keys is None:
            self._keys = self._index_keys()
        return dict(self._keys.get(brace, {}))

    def _index_keys(self) -> dict[int, dict[str, int]]:
        # One pass over strings and brackets (the regex skips everything else in C): linear in
        # the text, where rescanning each object's span was quadratic in the nesting depth.
        text = self._text
        out: dict[int, dict[str, int]] = {}
        stack: list[int] = []  # offsets of the open brackets; -1 marks an array
        for m in _BRACKET_OR_STRING.finditer(text):
            tok = m.group(0)
            if tok == "{":
                stack.append(m.start())
                out[m.start()] = {}
            elif tok == "[":
                stack.append(-1)
            elif tok in "}]":
                if stack:
                    stack.pop()
            elif stack and stack[-1] >= 0 and _COLON.match(text, m.end()):
                try:
                    key = json.loads(tok)
                except ValueError:
                    key = tok[1:-1]
                out[stack[-1]].setdefault(key, self._line(m.start()))
        return out

    def _array(self, s_and_end: tuple[str, int], scan_once: Any, **kw: Any) -> tuple[Any, int]:
        _, start = s_and_end
        values, end = json.decoder.JSONArray(s_and_end, scan_once, **kw)  # type: ignore[attr-defined]
        lst = LocList(values)
        lst.line = self._line(start - 1)
        lst.item_lines = [getattr(v, "line", lst.line) for v in values]
        return lst, end


def loads(text: str, path: str = "<string>") -> Any:
    deep = _too_deep(text)
    if deep is not None:
        line, col = line_col(text, deep)
        raise LoadError(path, line, f"nested too deeply (more than {MAX_DEPTH} levels) at line {line}, column {col}")
    try:
        return _Decoder(text).decode(text)
    except json.JSONDecodeError as e:
        raise LoadError(path, e.lineno, f"invalid JSON at column {e.colno}: {e.msg}") from None
    except ValueError as e:  # a number Python refuses (more than 4,300 digits)
        m = re.search(r"\d{4000,}", text)
        line, col = line_col(text, m.start() if m else 0)
        raise LoadError(path, line, f"invalid JSON at column {col}: {e}") from None
    except RecursionError:  # not reached below MAX_DEPTH; kept so no input can crash
        raise LoadError(path, 1, f"nested too deeply (more than {MAX_DEPTH} levels)") from None


def load(path: Path, display: str | None = None) -> Any:
    shown = display or str(path)
    return loads(read_source(path, shown), shown)
