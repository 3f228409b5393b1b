"""Suite-wide settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """moncheck's cache (SLO plans, mutate hints) in a folder of this run, unless the caller
    chose one: tests neither read what an earlier run left nor leave anything behind."""
    if "MONCHECK_CACHE_DIR" in os.environ:
        yield
        return
    os.environ["MONCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("moncheck-cache"))
    try:
        yield
    finally:
        os.environ.pop("MONCHECK_CACHE_DIR", None)
