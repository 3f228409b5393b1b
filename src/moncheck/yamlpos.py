"""YAML loading that keeps line numbers, and located load errors.

``load(path)`` returns plain Python data whose dicts and lists are ``LocDict``/``LocList``
carrying ``.line`` (1-based) of the node and ``.key_lines`` (dict keys) so every finding can
point at the user's file and line.

Loading is hardened for hostile input: only regular files are opened (a FIFO, a device, a
directory, a dangling symlink or a symlink loop is reported without being opened), files above
``MAX_BYTES`` are refused, documents nested deeper than ``MAX_DEPTH`` are refused at the line
where the limit is crossed, and every decode or reader error names its line and column in one
line of text. ``read_source`` is the one way every part of moncheck reads a repository file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 32 * 1024 * 1024
"""Largest artifact read (32 MiB: ten thousand rules take about 3 MiB)."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences accepted (real configs stay under 20)."""


class LoadError(Exception):
    """A file that cannot be read or parsed; ``line`` is 1-based (1 when unknown)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        message = " ".join(message.split())  # one output line, whatever the parser said
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


class LocDict(dict):
    line: int = 1
    key_lines: dict

    def line_of(self, key: str) -> int:
        """Line of ``key`` in the file, falling back to the mapping's own line."""
        return self.key_lines.get(key, self.line)


class LocList(list):
    line: int = 1
    item_lines: list


class _DepthMixin:
    """Counts construction depth (deeper than ``MAX_DEPTH`` is a located error, not a crash),
    and locates scalar values PyYAML accepts but cannot build (``2001-13-45``, 5,000 digits)."""

    _depth = 0

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            value = super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, OverflowError, TypeError) as e:
            what = repr(node.value[:40]) if isinstance(node, yaml.ScalarNode) else "value"
            raise yaml.constructor.ConstructorError(None, None, f"cannot read {what}: {e}", node.start_mark) from None
        if isinstance(value, int) and value.bit_length() > 4096:  # str() of it would raise
            raise yaml.constructor.ConstructorError(None, None, "number too large", node.start_mark)
        return value

    def _enter(self, node: yaml.Node) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.constructor.ConstructorError(
                None, None, f"nested too deeply (more than {MAX_DEPTH} levels)", node.start_mark
            )


class _Loader(_DepthMixin, yaml.SafeLoader):
    pass


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LocDict:
    loader._enter(node)
    loader.flatten_mapping(node)
    d = LocDict()
    d.line = node.start_mark.line + 1
    d.key_lines = {}
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "unhashable mapping key", knode.start_mark
            ) from None
        if key in d:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", knode.start_mark
            )
        d[key] = loader.construct_object(vnode, deep=True)
        d.key_lines[key] = knode.start_mark.line + 1
    loader._depth -= 1
    return d


def _construct_seq(loader: Any, node: yaml.SequenceNode) -> LocList:
    loader._enter(node)
    seq = LocList(loader.construct_object(n, deep=True) for n in node.value)
    seq.line = node.start_mark.line + 1
    seq.item_lines = [n.start_mark.line + 1 for n in node.value]
    loader._depth -= 1
    return seq


class _FastLoader(_DepthMixin, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same constructors on libyaml's parser: ~10x faster on big rule sets."""


for _cls in (_Loader, _FastLoader):
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of character ``index`` of ``text``."""
    index = max(0, min(index, len(text)))
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _reader_error(e: yaml.reader.ReaderError, text: str, path: str) -> LoadError:
    line, col = line_col(text, e.position)
    ch = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "\0")
    return LoadError(path, line, f"invalid YAML: control character U+{ch:04X} at column {col} "
                     "(YAML allows only printable characters, tab and newlines)")


def _too_deep(path: str, line: int, col: int) -> LoadError:
    return LoadError(path, line, f"nested too deeply (more than {MAX_DEPTH} levels) at line {line}, column {col}")


def _marked(e: yaml.MarkedYAMLError, path: str, text: str) -> LoadError:
    what = e.problem or e.context or "malformed"
    if "maximum nesting depth" in what or "nested too deeply" in what:
        return _too_deep(path, *_deep_position(text))
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark else 1
    where = f" at column {mark.column + 1}" if mark else ""
    return LoadError(path, line, f"invalid YAML{where}: {what}")


def _deep_position(text: str) -> tuple[int, int]:
    """(line, column) where nesting first exceeds ``MAX_DEPTH``. PyYAML's event parser is a
    state machine, so this cannot recurse, and unlike libyaml it does not scan ahead."""
    depth = 0
    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH and ev.start_mark is not None:
                    return ev.start_mark.line + 1, ev.start_mark.column + 1
            elif isinstance(ev, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if mark:
            return mark.line + 1, mark.column + 1
    except yaml.YAMLError:
        pass
    return 1, 1


def _located(text: str, path: str, parse: Callable[[], Any]) -> Any:
    """``parse()``, with every failure turned into one located ``LoadError``."""
    try:
        return parse()
    except RecursionError:
        raise _too_deep(path, *_deep_position(text)) from None
    except yaml.reader.ReaderError as e:
        raise _reader_error(e, text, path) from None
    except yaml.MarkedYAMLError as e:
        raise _marked(e, path, text) from None
    except yaml.YAMLError as e:
        raise LoadError(path, 1, f"invalid YAML: {e}") from None


def loads(text: str, path: str = "<string>") -> Any:
    try:
        return yaml.load(text, Loader=_FastLoader)
    except yaml.MarkedYAMLError as e:
        if "nested too deeply" in str(e.problem) or "maximum nesting depth" in str(e.problem):
            raise _marked(e, path, text) from None  # no re-parse of a deep document in Python
    except (yaml.YAMLError, RecursionError):
        pass  # re-parse with the pure-Python loader, whose error marks are the exact ones
    return _located(text, path, lambda: yaml.load(text, Loader=_Loader))


def _all_docs(text: str, loader_cls: type = _Loader) -> list[Any]:
    loader = loader_cls(text)
    try:
        docs = []
        while loader.check_data():
            docs.append(loader.get_data())
        return docs
    finally:
        loader.dispose()


def loads_all(text: str, path: str = "<string>") -> list[Any]:
    """Every document of a multi-document stream, with the same limits and errors as ``loads``."""
    try:
        return _all_docs(text, _FastLoader)
    except (yaml.YAMLError, RecursionError):
        pass  # the pure-Python loader gives the exact error marks
    return _located(text, path, lambda: _all_docs(text))


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def check_regular(path: Path, shown: str) -> os.stat_result:
    """``stat`` of ``path`` when it is a regular file (through symlinks); ``LoadError`` naming
    what it is otherwise. Never opens the file, so a FIFO cannot block."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise LoadError(shown, 1, f"dangling symlink (points to {os.readlink(path)!r}, which does not exist)") from None
        raise LoadError(shown, 1, "file not found") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise LoadError(shown, 1, "symlink loop: not read") from None
        raise LoadError(shown, 1, f"cannot read file: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(shown, 1, f"is {_not_regular(st.st_mode)}, not a regular file: not read")
    if st.st_size > MAX_BYTES:
        raise LoadError(shown, 1, f"file too large ({st.st_size} bytes; the limit is {MAX_BYTES})")
    return st


def read_bytes(path: Path, shown: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_BYTES``; ``LoadError`` at ``shown``:1 else."""
    check_regular(path, shown)
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since the stat, open does not block.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise LoadError(shown, 1, f"cannot read file: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LoadError(shown, 1, "not a regular file: not read")
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise LoadError(shown, 1, f"cannot read file: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise LoadError(shown, 1, f"file too large (more than {MAX_BYTES} bytes)")
    return data


def decode(data: bytes, shown: str) -> str:
    """UTF-8 text (a leading BOM dropped); ``LoadError`` at the first bad byte's line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        start = e.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise LoadError(shown, line, f"not UTF-8: byte 0x{data[start]:02x} at column {col} "
                        "(save the file as UTF-8)") from None


def read_source(path: Path, shown: str) -> str:
    """The UTF-8 text of a regular file; ``LoadError`` (located) when it cannot be had."""
    return decode(read_bytes(path, shown), shown)


def load(path: Path, display: str | None = None) -> Any:
    """Load a YAML file; ``display`` is the path shown in errors (relative to the repo)."""
    shown = display or str(path)
    return loads(read_source(path, shown), shown)


def load_all(path: Path, display: str | None = None) -> list[Any]:
    shown = display or str(path)
    return loads_all(read_source(path, shown), shown)


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else ``[]``: checks read shapes the schema may not have."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[Any, Any]:
    """``value`` when it is a mapping, else ``{}``."""
    return value if isinstance(value, dict) else {}


def item_lines(node: Any) -> list[int]:
    """The line of each item of a loaded list (1 for a list that was not loaded with lines)."""
    if isinstance(node, LocList):
        return list(node.item_lines)
    return [1] * len(node) if isinstance(node, list) else []


def line_of(node: Any, key: str | None = None, default: int = 1) -> int:
    """Best-known line of ``node`` (or of ``key`` inside it)."""
    if isinstance(node, LocDict):
        return node.line_of(key) if key is not None else node.line
    if isinstance(node, LocList):
        return node.line
    return default
