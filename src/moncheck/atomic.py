"""Atomic file writes: write to a temporary file beside the target, then rename.

A reader sees the old file or the new one, never a partial one. The new file keeps the mode of
the file it replaces (0644 when there was none: the mode git records). The temporary file is
``.<name>.<pid>.<random>.moncheck-tmp``: it is removed when the write fails, on Ctrl-C, on
SIGTERM or SIGHUP during the write, and, after a SIGKILL (which nothing can catch), by the next
write into the same folder (or ``remove_stale``), which removes such files whose process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

NEW_FILE_MODE = 0o644
SUFFIX = ".moncheck-tmp"
_STALE = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+" + re.escape(SUFFIX) + "$")
_ACTIVE: set[str] = set()
_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see the module doc)."""
    _check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent)
    with _cleanup_on_signal():
        tmp = _temp_copy(path, data, fsync=True)
        try:
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        finally:
            _ACTIVE.discard(tmp)


def write_many(files: list[tuple[Path, str]]) -> None:
    """Replace each path with its text, each file atomically as ``write_bytes`` does (the batch
    as a whole is not: a failure part-way leaves the files renamed so far replaced). For
    thousands of generated files (``moncheck slo generate``): stale temporary files are looked
    for once per folder, and there is no ``fsync``. An ``fsync`` per file cost more than
    generating 1,000 SLOs (5.4 s of 8 s), and a whole-disk ``sync`` waits for every other
    process's writes. Readers still see the old file or the new one (the rename); what a crash
    can leave is an empty new file, which the next run regenerates (``--check`` names it)."""
    for path, _ in files:
        _check_target(path)
    for folder in dict.fromkeys(path.parent for path, _ in files):
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale(folder)
    pending: list[tuple[str, Path]] = []
    done = 0
    with _cleanup_on_signal():
        try:
            for path, text in files:
                pending.append((_temp_copy(path, text.encode("utf-8"), fsync=False), path))
            for tmp, path in pending:
                os.replace(tmp, path)
                _ACTIVE.discard(tmp)
                done += 1
        except BaseException:
            for tmp, _ in pending[done:]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                _ACTIVE.discard(tmp)
            raise


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))


def _temp_copy(path: Path, data: bytes, fsync: bool) -> str:
    """A temporary file beside ``path`` holding ``data`` with the mode ``path`` has (0644 when
    there is none), registered in _ACTIVE; removed again if writing it fails."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=SUFFIX, dir=path.parent)
    _ACTIVE.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            if fsync:
                os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _ACTIVE.discard(tmp)
        raise
    return tmp


def remove_stale(folder: Path) -> list[Path]:
    """Remove moncheck's temporary files in ``folder`` left by a process that no longer runs."""
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    in_flight = {Path(t).name for t in _ACTIVE}
    for name in names:
        m = _STALE.match(name)
        if m and name not in in_flight and not _alive(int(m.group("pid"))):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)
                removed.append(folder / name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours and not in flight: left by an earlier failure of this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _cleanup_on_signal() -> Iterator[None]:
    """While writing, SIGTERM/SIGHUP first remove the temporary files, then do what they did
    before (the previous handler, or the default: terminate). Main thread only (Python runs
    handlers there); Ctrl-C is a KeyboardInterrupt, handled by ``write_bytes`` itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    for sig in _SIGNALS:
        prev = signal.getsignal(sig)
        if prev is signal.SIG_IGN:
            continue
        previous[sig] = prev

        def handler(signum: int, frame: FrameType | None, prev: Any = prev) -> None:
            for t in list(_ACTIVE):
                with contextlib.suppress(OSError):
                    os.unlink(t)
            if callable(prev):
                prev(signum, frame)
                return
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, prev in previous.items():
            signal.signal(sig, prev if prev is not None else signal.SIG_DFL)
