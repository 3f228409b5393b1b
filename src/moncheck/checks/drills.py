"""``drills/coverage``: every alert has a fire drill or an ``untestable`` entry with a reason.

Reads the inventory's alerts and ``monitoring/drills/*.yml`` (``expect[].alert``,
``untestable[].{alert, reason}`` and ``expect_silent[]``). An alert with neither a drill nor an
``untestable`` entry is an error at the alert's line; an ``untestable`` entry without a reason, or
an entry or ``expect_silent`` name naming an alert that does not exist (a silence asserted about a
misspelt name would be vacuous), is an error at the entry's line; an alert both drilled and
declared untestable is a warning. ``expect_silent`` does not count as a drill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moncheck.findings import Finding, error, warning
from moncheck.yamlpos import as_dict, as_list, line_of

CHECK = "drills/coverage"


def _entries(doc: Any, key: str) -> list[tuple[Any, int]]:
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return []
    lines = getattr(items, "item_lines", [line_of(items)] * len(items))
    return [(x, ln) for x, ln in zip(items, lines) if isinstance(x, dict)]


def check_drill_coverage(inventory_or_repo: Any) -> list[Finding]:
    """Findings for alerts without a drill or a reasoned suppression (see module doc)."""
    if isinstance(inventory_or_repo, (str, Path)):
        from moncheck.inventory import load_repo  # lazy: the gate already has one
        inv = load_repo(Path(inventory_or_repo))
    else:
        inv = inventory_or_repo
    alerts = {r.name: r for r in inv.alerts}
    drilled: dict[str, tuple[str, int]] = {}
    untestable: dict[str, tuple[str, int]] = {}
    out: list[Finding] = []
    for doc in inv.drills:
        for x, ln in _entries(doc.data, "expect"):
            if isinstance(x.get("alert"), str):
                drilled.setdefault(x["alert"], (doc.path, ln))
        for x, ln in _entries(doc.data, "untestable"):
            name = x.get("alert")
            reason = x.get("reason")
            if not isinstance(reason, str) or len(reason.strip()) < 10:
                out.append(error(CHECK, doc.path, ln, f"untestable alert {name!r} needs a reason",
                                 "say why it cannot be drilled on the local stack"))
            if isinstance(name, str):
                untestable[name] = (doc.path, ln)
    for name, (path, ln) in {**drilled, **untestable}.items():
        if name not in alerts:
            out.append(error(CHECK, path, ln, f"drill file names alert {name!r}, which no rule defines"))
    for doc in inv.drills:
        silent = doc.data.get("expect_silent") if isinstance(doc.data, dict) else None
        if not isinstance(silent, list):
            continue
        lines = getattr(silent, "item_lines", [line_of(silent)] * len(silent))
        for name, ln in zip(silent, lines):
            if isinstance(name, str) and name not in alerts:
                out.append(error(CHECK, doc.path, ln, f"expect_silent names alert {name!r}, which no rule "
                                 "defines", "a silence asserted about a misspelt name proves nothing"))
    for name, rule in sorted(alerts.items()):
        if name in drilled and name in untestable:
            path, ln = untestable[name]
            out.append(warning(CHECK, path, ln, f"alert {name} has a drill and is also declared untestable"))
        elif name not in drilled and name not in untestable:
            out.append(error(CHECK, rule.file, rule.line, f"alert {name} has no fire drill and no "
                             "untestable entry", "add a drill to monitoring/drills/ or an `untestable: "
                             "[{alert, reason}]` entry"))
    return sorted(out)


def check_drill_receivers(inv: Any) -> list[Finding]:
    """``drills/receivers``: every receiver a drill expects is defined in alertmanager.yml (a
    drill expecting a receiver that does not exist can only fail on the stack, later)."""
    am = inv.alertmanager.data if inv.alertmanager is not None else None
    defined = {str(as_dict(r).get("name")) for r in as_list(as_dict(am).get("receivers"))}
    out: list[Finding] = []
    for doc in inv.drills:
        for x, ln in _entries(doc.data, "expect"):
            receivers = as_list(x.get("receivers"))
            lines = getattr(receivers, "item_lines", [ln] * len(receivers))
            for name, rline in zip(receivers, lines):
                if isinstance(name, str) and name not in defined:
                    out.append(error("drills/receivers", doc.path, rline,
                                     f"drill expects receiver {name!r}, which alertmanager.yml does not define",
                                     f"defined: {', '.join(sorted(defined)) or 'none'}"))
    return out
