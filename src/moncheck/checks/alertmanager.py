"""Alertmanager routing, evaluated in Python (matchers, match, match_re, continue), and the
checks that need it: every alert's severity reaches a real receiver (``alerts/unrouted``)."""

from __future__ import annotations

import re
from typing import Any

from moncheck.checks.base import Context, Skip, validate
from moncheck.findings import Finding, error
from moncheck.yamlpos import as_dict, as_list

_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$')


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return bytes(v[1:-1], "utf-8").decode("unicode_escape") if "\\" in v else v[1:-1]
    return v


def parse_matcher(text: str) -> tuple[str, str, str] | None:
    m = _MATCHER.match(text.strip().strip("{}"))
    return (m.group(1), m.group(2), _unquote(m.group(3))) if m else None


def _full(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False


def route_matches(route: dict, labels: dict[str, str], prefix: str = "") -> bool:
    """Does ``labels`` satisfy ``<prefix>match``, ``<prefix>match_re`` and ``<prefix>matchers``?"""
    for k, v in as_dict(route.get(prefix + "match")).items():
        if labels.get(str(k), "") != str(v):
            return False
    for k, v in as_dict(route.get(prefix + "match_re")).items():
        if not _full(str(v), labels.get(str(k), "")):
            return False
    for text in as_list(route.get(prefix + "matchers")):
        parsed = parse_matcher(str(text))
        if parsed is None:
            return False
        name, op, val = parsed
        have = labels.get(name, "")
        ok = {"=": have == val, "!=": have != val, "=~": _full(val, have), "!~": not _full(val, have)}[op]
        if not ok:
            return False
    return True


def route(tree: dict, labels: dict[str, str]) -> list[str]:
    """Receivers an alert with ``labels`` is delivered to (Alertmanager's tree walk)."""
    return route_ex(tree, labels)[0]


def route_ex(tree: dict, labels: dict[str, str]) -> tuple[list[str], bool]:
    """(receivers, whether some route below the root matched)."""
    out: list[str] = []
    below_root = False

    def walk(node: dict, inherited: str | None, depth: int) -> bool:
        nonlocal below_root
        recv = node.get("receiver") or inherited
        matched_child = False
        for child in as_list(node.get("routes")):
            if not isinstance(child, dict) or not route_matches(child, labels):
                continue
            walk(child, recv, depth + 1)
            matched_child = True
            below_root = True
            if not child.get("continue", False):
                break
        if not matched_child and recv:
            out.append(str(recv))
        return True

    if isinstance(tree, dict):
        walk(tree, None, 0)
    return out, below_root


def inhibited(rules: list, source: dict[str, str], target: dict[str, str]) -> bool:
    """Would a firing ``source`` alert mute ``target`` under ``inhibit_rules``?"""
    for r in rules:
        if not isinstance(r, dict):
            continue
        if not (route_matches(r, source, "source_") and route_matches(r, target, "target_")):
            continue
        if all(source.get(str(k), "") == target.get(str(k), "") for k in as_list(r.get("equal"))):
            return True
    return False


def _tree(ctx: Context) -> dict:
    am = ctx.inv.alertmanager
    if am is None:
        raise Skip("no alertmanager config")
    data = am.data if isinstance(am.data, dict) else {}
    tree = data.get("route")
    if not isinstance(tree, dict):
        raise Skip(f"{am.path} has no route tree")
    return tree


def alerts_unrouted(ctx: Context) -> list[Finding]:
    tree = _tree(ctx)
    default = ctx.pol.default_receiver or tree.get("receiver")
    out = []
    cache: dict[tuple, tuple[list[str], bool]] = {}
    by_name = _uses_alertname(tree)
    for r in ctx.inv.alerts:
        labels = {k: v for k, v in r.labels.items() if "{{" not in v}
        labels["alertname"] = r.name
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "alertname"))
        got = None if by_name else cache.get(key)
        if got is None:
            got = route_ex(tree, labels)
            cache[key] = got
        receivers, routed = got
        line = r.label_lines.get("severity", r.line)
        sev = labels.get("severity", "")
        # Unrouted: no route below the root matched, so it falls back to the default receiver.
        if not routed or not receivers:
            out.append(error("alerts/unrouted", r.file, line,
                             f"alert {r.name!r} (severity {sev!r}) matches no route: it only reaches the default receiver {default!r}",
                             "add a route for its severity in alertmanager.yml"))
            continue
        missing = [x for x in ctx.pol.routing.get(sev, []) if x not in receivers]
        if missing:
            out.append(error("alerts/unrouted", r.file, line,
                             f"alert {r.name!r} (severity {sev!r}) does not reach {', '.join(missing)} (reaches {', '.join(receivers)})",
                             "policies/policy.yml alerts.routing says which receivers each severity reaches"))
    return out


def _uses_alertname(tree: Any) -> bool:
    return "alertname" in repr(tree)


def routing_cases(data: Any) -> list:
    """The cases of a routing-tests file (a list, or ``{tests: [...]}``)."""
    cases = data.get("tests") if isinstance(data, dict) else data
    return [c for c in cases if isinstance(c, dict)] if isinstance(cases, list) else []


def schema_routing_tests(ctx: Context) -> list[Finding]:
    rt = ctx.inv.routing_tests
    if rt is None:
        raise Skip("no routing tests (monitoring/alertmanager/routing-tests.yml)")
    return validate(ctx, "schema/routing-tests", "routing-tests", rt.path, rt.data)


def routing_tests_python(ctx: Context) -> list[Finding]:
    """Routing tests evaluated with the Python tree walk (complements amtool's)."""
    rt = ctx.inv.routing_tests
    if rt is None:
        raise Skip("no routing tests")
    tree = _tree(ctx)
    am = ctx.inv.alertmanager.data if ctx.inv.alertmanager else {}
    inhibit_rules = am.get("inhibit_rules") or [] if isinstance(am, dict) else []
    out = []
    for t in routing_cases(rt.data):
        name = t.get("name") or "?"
        if isinstance(t.get("labels"), dict) and isinstance(t.get("receivers"), list):
            got = route(tree, {str(k): str(v) for k, v in t["labels"].items()})
            want = [str(x) for x in t["receivers"]]
            if got != want:
                out.append(error("alertmanager/routing", rt.path, getattr(t, "line", 1),
                                 f"{name}: routed to {got}, expected {want}"))
        inh = t.get("inhibit")
        if isinstance(inh, dict) and isinstance(inh.get("source"), dict) and isinstance(inh.get("target"), dict):
            src = {str(k): str(v) for k, v in inh["source"].items()}
            tgt = {str(k): str(v) for k, v in inh["target"].items()}
            got_inh = inhibited(inhibit_rules, src, tgt)
            if got_inh != bool(inh.get("inhibited")):
                out.append(error("alertmanager/inhibition", rt.path, getattr(t, "line", 1),
                                 f"{name}: target is {'muted' if got_inh else 'not muted'}, expected {'muted' if inh.get('inhibited') else 'not muted'}"))
    return out
