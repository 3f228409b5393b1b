"""Files moncheck ships inside its package (found through ``importlib.resources``, so they are
there whether moncheck runs from a checkout, an editable install or an installed wheel): the JSON
schemas of every artifact kind and the default policy."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from moncheck import yamlpos

DEFAULT_POLICY = "default-policy.yml"


def _package_path(name: str) -> Path:
    # moncheck is installed as files (never zipped: it ships a pytest plugin and data files read
    # by external tools), so the traversable is a real path.
    return Path(str(resources.files("moncheck").joinpath(name)))


def schema_dir() -> Path:
    """The folder of ``<kind>.schema.json`` files shipped with moncheck."""
    return _package_path("schemas")


def schema_path(kind: str) -> Path:
    return schema_dir() / f"{kind}.schema.json"


def default_policy_path() -> Path:
    return _package_path(DEFAULT_POLICY)


@cache
def default_policy_data() -> Any:
    """The policy a repository without ``policies/policy.yml`` gets (located like a loaded file)."""
    return yamlpos.load(default_policy_path(), f"moncheck/{DEFAULT_POLICY}")
