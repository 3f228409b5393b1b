"""SIGINT and SIGTERM while stacks run: the first one unwinds, later ones cannot cut the clean-up short.

While at least one stack is held (``hold``/``release``, counted), the first SIGINT raises
KeyboardInterrupt and the first SIGTERM SystemExit(143) in the main thread; every further signal
is ignored until the last stack has released, so ``finally`` blocks and ``Stack.stop()`` run to
their end after two Ctrl-C in a row or a SIGINT to the whole process group. Stopping is bounded
(SIGTERM, then SIGKILL after a few seconds per component), so nobody needs a second signal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_lock = threading.Lock()
_depth = 0
_tripped = False
_old: dict[int, Any] = {}


def _handler(signum: int, frame: FrameType | None) -> None:
    global _tripped
    if _tripped:
        return
    _tripped = True
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def hold() -> None:
    """Install the one-shot handlers (main thread only; other threads never receive signals)."""
    global _depth, _tripped
    with _lock:
        _depth += 1
        if _depth == 1 and threading.current_thread() is threading.main_thread():
            _tripped = False
            for sig in _SIGNALS:
                _old[sig] = signal.signal(sig, _handler)


def release() -> None:
    """Undo one ``hold``; the last one restores the previous handlers and forgets the signal."""
    global _depth, _tripped
    with _lock:
        if _depth == 0:
            return
        _depth -= 1
        if _depth == 0:
            _tripped = False  # nothing is held any more: a later stack starts afresh
        if _depth == 0 and _old and threading.current_thread() is threading.main_thread():
            for sig, old in _old.items():
                signal.signal(sig, old if old is not None else signal.SIG_DFL)
            _old.clear()


def interrupted() -> bool:
    """A stop signal arrived while stacks were held (the workers of a parallel run stop then)."""
    return _tripped


def _term_as_interrupt(_sig: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM takes the Ctrl-C path (a KeyboardInterrupt in the main thread),
    so the clean-up written for Ctrl-C (killing child processes, removing a work dir) also runs
    for a SIGTERM. Main thread only; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _term_as_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
