"""Rule-by-rule comparison of two Prometheus rule files (ours against Sloth's own output).

Whitespace inside expressions is normalised (YAML folding and indentation differ between
emitters, PromQL does not care); everything else (names, order, labels, annotations, ``for``)
must be equal. Several YAML documents (Sloth writes one per spec document) are concatenated.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_WS = re.compile(r"\s+")


def _norm(expr: Any) -> str:
    return _WS.sub(" ", str(expr)).strip()


def _rules(text: str) -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for doc in yaml.safe_load_all(text):
        doc = doc or {}
        if doc.get("kind") == "PrometheusRule":  # Sloth's Kubernetes output
            doc = doc.get("spec") or {}
        for g in doc.get("groups") or []:
            for i, r in enumerate(g.get("rules") or []):
                out.append((str(g.get("name")), i, r))
    return out


def _key(group: str, i: int, r: dict[str, Any]) -> str:
    name = r.get("record") or r.get("alert")
    return f"{group}[{i}] {name}"


def differences(ours: str, theirs: str) -> list[str]:
    """One line per differing field, ``group[index] name: field: ours != theirs``; [] if equal."""
    a, b = _rules(ours), _rules(theirs)
    out = []
    for n in range(max(len(a), len(b))):
        if n >= len(a):
            out.append(f"{_key(*b[n])}: missing in ours")
            continue
        if n >= len(b):
            out.append(f"{_key(*a[n])}: not in theirs")
            continue
        (ga, _, ra), (gb, ib, rb) = a[n], b[n]
        k = _key(gb, ib, rb)
        if ga != gb:
            out.append(f"{k}: group: {ga!r} != {gb!r}")
        for f in ("record", "alert", "for"):
            if ra.get(f) != rb.get(f):
                out.append(f"{k}: {f}: {ra.get(f)!r} != {rb.get(f)!r}")
        if _norm(ra.get("expr")) != _norm(rb.get("expr")):
            out.append(f"{k}: expr: {_norm(ra.get('expr'))!r} != {_norm(rb.get('expr'))!r}")
        for f in ("labels", "annotations"):
            la, lb = ra.get(f) or {}, rb.get(f) or {}
            for name in sorted(set(la) | set(lb)):
                if str(la.get(name)) != str(lb.get(name)) or (name in la) != (name in lb):
                    out.append(f"{k}: {f}.{name}: {la.get(name)!r} != {lb.get(name)!r}")
    return out
