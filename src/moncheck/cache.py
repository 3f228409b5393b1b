"""Where moncheck keeps what it can recompute: ``$MONCHECK_CACHE_DIR`` (empty: nowhere), else
the user's cache (``$XDG_CACHE_HOME`` or ``~/.cache``) ``/moncheck``. A cache only saves time:
every reader treats a missing, stale or unreadable entry as absent."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(name: str) -> Path | None:
    """The folder for the cache ``name``, or None when caching is off."""
    env = os.environ.get("MONCHECK_CACHE_DIR")
    if env is not None:
        return Path(env) / name if env else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "moncheck" / name
