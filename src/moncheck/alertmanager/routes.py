"""The routing tree, as Alertmanager's ``dispatch/route.go`` builds and walks it.

Building (``NewRoute``): each node starts from its parent's options (the root from the defaults:
``group_wait`` 30s, ``group_interval`` 5m, ``repeat_interval`` 4h, no grouping) and overrides
``receiver``, ``group_by`` (``...`` = every label; an empty list inherits), the three intervals;
``mute_time_intervals``/``active_time_intervals`` are not inherited. A node's matchers are its
``match`` (equality), ``match_re`` (anchored regex) and ``matchers`` strings together.

Walking (``Route.Match``): a node whose matchers fail matches nothing; otherwise its children are
tried in order, each matching child's result is kept, and the walk stops after the first matching
child without ``continue: true``; a node none of whose children matched is itself the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moncheck import durations
from moncheck.alertmanager.matchers import (
    LABEL_NAME,
    Matcher,
    MatcherError,
    legacy,
    matches_all,
    parse_matchers,
)
from moncheck.yamlpos import LoadError, LocList, line_of

DEFAULT_GROUP_WAIT_MS = 30_000
DEFAULT_GROUP_INTERVAL_MS = 300_000
DEFAULT_REPEAT_INTERVAL_MS = 4 * 3_600_000

_KEYS = {
    "receiver", "group_by", "continue", "match", "match_re", "matchers", "mute_time_intervals",
    "active_time_intervals", "group_wait", "group_interval", "repeat_interval", "routes",
}


@dataclass
class Route:
    receiver: str
    matchers: tuple[Matcher, ...]
    continue_: bool
    group_by: tuple[str, ...]
    group_by_all: bool
    group_wait_ms: int
    group_interval_ms: int
    repeat_interval_ms: int
    line: int
    index: tuple[int, ...] = ()  # position from the root: (2, 0) is the first child of the third
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: list[Route] = field(default_factory=list)

    def match(self, labels: dict[str, str]) -> list[Route]:
        """The nodes that handle an alert with ``labels`` (``Route.Match``), in tree order."""
        if not matches_all(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            got = child.match(labels)
            found += got
            if got and not child.continue_:
                break
        return found or [self]

    def receivers(self, labels: dict[str, str]) -> list[str]:
        """Receivers in tree order, as ``amtool config routes test`` prints them."""
        return [r.receiver for r in self.match(labels)]

    def group_labels(self, labels: dict[str, str]) -> dict[str, str]:
        """The labels that name the alert's group at this node (``getGroupLabels``)."""
        return {k: v for k, v in labels.items() if self.group_by_all or k in self.group_by}

    def walk(self) -> list[Route]:
        """This node and every node below it, depth first."""
        return [self, *(n for c in self.routes for n in c.walk())]


def _ms(node: dict[str, Any], key: str, inherited: int, display: str, nonzero: bool) -> int:
    if key not in node:
        return inherited
    value = node[key]
    try:
        ms = durations.parse_ms(str(value) if isinstance(value, int) and not isinstance(value, bool) else value)
    except ValueError as e:
        raise LoadError(display, line_of(node, key), f"route {key}: {e}") from None
    if nonzero and ms == 0:
        raise LoadError(display, line_of(node, key), f"route {key} cannot be zero")
    return ms


def _strings(node: dict[str, Any], key: str, display: str) -> list[str]:
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise LoadError(display, line_of(node, key), f"route {key} must be a list of strings")
    return list(value)


def parse_route(node: Any, display: str, parent: Route | None = None, index: tuple[int, ...] = ()) -> Route:
    """A route node and its children; ``LoadError`` at the offending line when Alertmanager would
    refuse the config."""
    line = line_of(node)
    if not isinstance(node, dict):
        raise LoadError(display, line, "a route must be a mapping")
    unknown = sorted(str(k) for k in node if k not in _KEYS)
    if unknown:
        raise LoadError(display, line_of(node, unknown[0]), f"route: unknown field {unknown[0]!r}")
    receiver = node.get("receiver")
    if receiver is not None and not isinstance(receiver, str):
        raise LoadError(display, line_of(node, "receiver"), "route receiver must be a string")
    if parent is None and not receiver:
        raise LoadError(display, line, "root route must specify a default receiver")
    group_by_raw = _strings(node, "group_by", display)
    by_all = "..." in group_by_raw
    names = [g for g in group_by_raw if g != "..."]
    for g in names:
        if not LABEL_NAME.fullmatch(g):
            raise LoadError(display, line_of(node, "group_by"), f"invalid label name {g!r} in group_by list")
    if by_all and names:
        raise LoadError(display, line_of(node, "group_by"), "cannot have wildcard group_by (`...`) and other labels at the same time")
    if len(set(names)) != len(names):
        raise LoadError(display, line_of(node, "group_by"), "duplicated label in group_by")
    try:
        matchers = legacy(node.get("match"), node.get("match_re"))
        for text in _strings(node, "matchers", display):
            matchers += parse_matchers(text)
    except (MatcherError, AttributeError) as e:
        key = "matchers" if "matchers" in node else "match_re" if "match_re" in node else "match"
        raise LoadError(display, line_of(node, key), f"route matchers: {e}") from None
    if parent is None and matchers:
        raise LoadError(display, line, "root route must not have any matchers")
    cont = node.get("continue", False)
    if not isinstance(cont, bool):
        raise LoadError(display, line_of(node, "continue"), "route continue must be true or false")
    if parent is None and cont:
        raise LoadError(display, line_of(node, "continue"), "cannot have continue in root route")
    for key in ("mute_time_intervals", "active_time_intervals"):
        if parent is None and node.get(key):
            raise LoadError(display, line_of(node, key), f"root route must not have any {key.replace('_', ' ')}")
    if names:
        group_by, group_by_all = tuple(names), False
    elif by_all:
        group_by, group_by_all = (), True
    else:
        group_by = parent.group_by if parent else ()
        group_by_all = parent.group_by_all if parent else False
    route = Route(
        receiver=receiver or (parent.receiver if parent else ""),
        matchers=tuple(sorted(matchers, key=lambda m: (m.name, m.value, m.op))),
        continue_=cont,
        group_by=group_by,
        group_by_all=group_by_all,
        group_wait_ms=_ms(node, "group_wait", parent.group_wait_ms if parent else DEFAULT_GROUP_WAIT_MS, display, False),
        group_interval_ms=_ms(node, "group_interval", parent.group_interval_ms if parent else DEFAULT_GROUP_INTERVAL_MS, display, True),
        repeat_interval_ms=_ms(node, "repeat_interval", parent.repeat_interval_ms if parent else DEFAULT_REPEAT_INTERVAL_MS, display, True),
        line=line,
        index=index,
        mute_time_intervals=tuple(_strings(node, "mute_time_intervals", display)),
        active_time_intervals=tuple(_strings(node, "active_time_intervals", display)),
    )
    children = node.get("routes") or []
    if not isinstance(children, list):
        raise LoadError(display, line_of(node, "routes"), "route routes must be a list")
    lines = children.item_lines if isinstance(children, LocList) else []
    for i, child in enumerate(children):
        if not isinstance(child, dict):
            raise LoadError(display, lines[i] if i < len(lines) else line, "a route must be a mapping")
        route.routes.append(parse_route(child, display, route, (*index, i)))
    return route
