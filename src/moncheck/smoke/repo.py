"""What the repository says the running monitoring should look like.

Rule groups of ``monitoring/prometheus/rules/**/*.yml``, the Alertmanager routing tree and
receiver names of ``monitoring/alertmanager/alertmanager.yml``, the cataloged service metrics.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from moncheck import alertmanager as am
from moncheck import yamlpos
from moncheck.inventory import Inventory, load_repo

RULES_DIR = "monitoring/prometheus/rules"
AM_CONFIG = "monitoring/alertmanager/alertmanager.yml"
CATALOG = "monitoring/catalog/metrics.yml"


@lru_cache(maxsize=4)
def _inventory(repo: Path) -> Inventory:
    return load_repo(repo)


def _load_error(inv: Inventory, prefix: str) -> yamlpos.LoadError | None:
    """The first load problem of a file under ``prefix``: smoke never compares half a repository."""
    bad = next((f for f in inv.load_findings if f.path.startswith(prefix)), None)
    return yamlpos.LoadError(bad.path, bad.line, bad.message) if bad else None


def rule_groups(repo: Path) -> dict[str, list[str]]:
    """``{group name: [rule names in order]}`` over every rule file of the repository (from the
    inventory's typed rule groups)."""
    inv = _inventory(repo)
    if err := _load_error(inv, RULES_DIR):
        raise err
    groups: dict[str, list[str]] = {}
    for f in inv.rule_files:
        for g in f.groups:
            if g.name is None:
                raise yamlpos.LoadError(f.path, g.line, "rule group without a name")
            groups[g.name] = [r.name for r in g.rules]
    return groups


def service_metrics(repo: Path) -> dict[str, str]:
    """``{name: type}`` of every cataloged metric the service itself exposes."""
    inv = _inventory(repo)
    if err := _load_error(inv, CATALOG):
        raise err
    if inv.catalog is None:
        raise yamlpos.LoadError(CATALOG, 1, "file not found")
    return {m.name: m.type for m in inv.catalog.by_source("service")}


def exposed_names(name: str, kind: str) -> list[str]:
    """Sample names that prove a cataloged metric is exposed."""
    if kind == "histogram":
        return [f"{name}_bucket", f"{name}_sum", f"{name}_count"]
    if kind == "summary":
        return [f"{name}_sum", f"{name}_count"]
    return [name]


def routing_shape(config: dict[str, Any]) -> dict[str, Any]:
    """The part of an Alertmanager config that must match: routing tree, receiver names and
    inhibit rules, on the Alertmanager model (so ``match: {a: b}`` and ``matchers: [a="b"]`` are
    the same route). Intervals, URLs, keys and secrets are left out: the local stack compresses
    and rewrites them. Raises ``yamlpos.LoadError`` when the config does not load."""
    model = am.parse_config(config, AM_CONFIG)

    def route(r: am.Route) -> dict[str, Any]:
        return {
            "receiver": r.receiver,
            "matchers": sorted(str(m) for m in r.matchers),
            "continue": r.continue_,
            "group_by": ["..."] if r.group_by_all else sorted(r.group_by),
            "routes": [route(c) for c in r.routes],
        }

    return {
        "route": route(model.route),
        "receivers": sorted(model.receivers),
        "inhibit_rules": [
            {"source": sorted(map(str, i.source)), "target": sorted(map(str, i.target)), "equal": sorted(i.equal)}
            for i in model.inhibit_rules
        ],
    }


def diff_shapes(want: Any, got: Any, path: str = "") -> list[str]:
    """Human-readable differences between two routing shapes (first few)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out: list[str] = []
        for k in sorted(set(want) | set(got)):
            out += diff_shapes(want.get(k), got.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(want, list) and isinstance(got, list) and want and isinstance(want[0], dict):
        if len(want) != len(got):
            return [f"{path}: {len(want)} entries in repo, {len(got)} loaded"]
        out = []
        for i, (w, g) in enumerate(zip(want, got)):
            out += diff_shapes(w, g, f"{path}[{i}]")
        return out
    return [] if want == got else [f"{path}: repo {want!r}, loaded {got!r}"]
