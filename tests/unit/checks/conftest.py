"""Fixture ``repo``: build a tiny repository in tmp_path and return a check context for it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from collections.abc import Callable

import pytest
from checkhelp import CATALOG

from moncheck import policy
from moncheck.checks.base import Context
from moncheck.inventory import load_repo

Repo = Callable[..., Context]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    def make(files: dict[str, str], catalog: bool = True, pol: dict | None = None) -> Context:
        if catalog:
            files = {"monitoring/catalog/metrics.yml": CATALOG, **files}
        for rel, text in files.items():
            p = tmp_path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(text) if text.startswith("\n") else text)
        inv = load_repo(tmp_path)
        assert not inv.load_findings, inv.load_findings
        return Context(inv, policy.from_data(pol or (inv.policy.data if inv.policy else None), None))

    return make

