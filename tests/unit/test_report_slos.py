"""The daily report reads SLO specs through the inventory (the gate's loader)."""

from __future__ import annotations

import shutil
from pathlib import Path

from moncheck.report.slos import _specs

ROOT = Path(__file__).resolve().parents[2]


def test_specs_come_from_the_inventory_with_notes_for_what_is_skipped(tmp_path: Path) -> None:
    slos = tmp_path / "monitoring/slos"
    slos.mkdir(parents=True)
    shutil.copy(ROOT / "tests/fixtures/slo/good/api.yml", slos / "api.yml")
    shutil.copy(ROOT / "tests/fixtures/slo/good/openslo.yml", slos / "openslo.yml")
    (slos / "broken.yml").write_text("version: [\n")
    notes: list[str] = []
    found = _specs(tmp_path, notes)
    assert found and all(where.startswith("monitoring/slos/api.yml:") for _, _, where in found)
    assert len(notes) == 2 and notes[1] == "SLO spec skipped: monitoring/slos/openslo.yml: not a Sloth prometheus/v1 spec"
    assert notes[0].startswith("SLO spec skipped: monitoring/slos/broken.yml:") and "invalid YAML" in notes[0]
