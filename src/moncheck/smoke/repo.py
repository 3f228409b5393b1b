"""What the repository says the running monitoring should look like.

Rule groups of ``monitoring/prometheus/rules/**/*.yml``, the Alertmanager routing tree and
receiver names of ``monitoring/alertmanager/alertmanager.yml``, the cataloged service metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moncheck import alertmanager as am
from moncheck import catalog, yamlpos

RULES_DIR = "monitoring/prometheus/rules"
AM_CONFIG = "monitoring/alertmanager/alertmanager.yml"
CATALOG = "monitoring/catalog/metrics.yml"


def rule_groups(repo: Path) -> dict[str, list[str]]:
    """``{group name: [rule names in order]}`` over every rule file of the repository."""
    groups: dict[str, list[str]] = {}
    for path in sorted((repo / RULES_DIR).rglob("*.yml")):
        rel = str(path.relative_to(repo))
        doc = yamlpos.load(path, rel)
        if not doc:
            continue
        for g in (doc.get("groups") or []) if isinstance(doc, dict) else []:
            if not isinstance(g, dict) or "name" not in g:
                raise yamlpos.LoadError(rel, yamlpos.line_of(g), "rule group without a name")
            groups[str(g["name"])] = [str(r.get("alert") or r.get("record")) for r in g.get("rules") or []]
    return groups


def service_metrics(repo: Path) -> dict[str, str]:
    """``{name: type}`` of every cataloged metric the service itself exposes."""
    return {m.name: m.type for m in catalog.load(repo / CATALOG, CATALOG).by_source("service")}


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
