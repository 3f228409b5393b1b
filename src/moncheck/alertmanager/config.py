"""An Alertmanager configuration as the model needs it: the routing tree, the inhibit rules and the
receiver names (URLs, keys and templates are amtool's business: ``amtool check-config``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moncheck.alertmanager.inhibit import InhibitRule, parse_inhibit_rules
from moncheck.alertmanager.routes import Route, parse_route
from moncheck.yamlpos import LoadError, LocList, line_of


@dataclass
class Config:
    path: str
    route: Route
    inhibit_rules: list[InhibitRule] = field(default_factory=list)
    receivers: list[str] = field(default_factory=list)

    def receivers_for(self, labels: dict[str, str]) -> list[str]:
        return self.route.receivers(labels)


def _interval_names(data: dict[str, Any], display: str) -> set[str]:
    """Names defined under ``time_intervals`` and the older ``mute_time_intervals``."""
    out: set[str] = set()
    for key in ("time_intervals", "mute_time_intervals"):
        items = data.get(key) or []
        if not isinstance(items, list):
            raise LoadError(display, line_of(data, key), f"{key} must be a list")
        out.update(str(i["name"]) for i in items if isinstance(i, dict) and "name" in i)
    return out


def parse_config(data: Any, display: str) -> Config:
    """The model of a loaded ``alertmanager.yml``; ``LoadError`` at the line Alertmanager would
    complain about (no route, a bad matcher, an undefined receiver...)."""
    if not isinstance(data, dict):
        raise LoadError(display, line_of(data), "an Alertmanager config must be a mapping")
    if data.get("route") is None:
        raise LoadError(display, line_of(data), "no routes provided (`route:` is missing)")
    receivers_node = data.get("receivers") or []
    if not isinstance(receivers_node, list):
        raise LoadError(display, line_of(data, "receivers"), "receivers must be a list")
    names: list[str] = []
    lines = receivers_node.item_lines if isinstance(receivers_node, LocList) else []
    for i, rcv in enumerate(receivers_node):
        name = rcv.get("name") if isinstance(rcv, dict) else None
        at = lines[i] if i < len(lines) else line_of(data, "receivers")
        if not isinstance(name, str) or not name:
            raise LoadError(display, at, "missing name in receiver")
        if name in names:
            raise LoadError(display, at, f"notification config name {name!r} is not unique")
        names.append(name)
    route = parse_route(data["route"], display)
    intervals = _interval_names(data, display)
    for node in route.walk():
        if node.receiver not in names:
            raise LoadError(display, node.line, f"undefined receiver {node.receiver!r} used in route")
        for name in (*node.mute_time_intervals, *node.active_time_intervals):
            if name not in intervals:
                raise LoadError(display, node.line, f"undefined time interval {name!r} used in route")
    rules = parse_inhibit_rules(data.get("inhibit_rules"), display, line_of(data, "inhibit_rules"))
    return Config(display, route, rules, names)
