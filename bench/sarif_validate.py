"""Validate moncheck's SARIF output against the official SARIF 2.1.0 JSON schema.

    .venv/bin/python bench/sarif_validate.py SCHEMA [REPO [PATH...]]

SCHEMA is ``sarif-schema-2.1.0.json`` from the OASIS sarif-spec repository (you fetch it: nothing
is downloaded here, nothing fetched is committed; the unit tests assert the structure code
scanning needs). Runs ``moncheck check --format sarif`` on REPO (default: this repository; PATHs
as for ``moncheck check``) and prints the number of results and of schema violations.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    schema = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    repo = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else REPO
    with tempfile.TemporaryDirectory(prefix="moncheck-sarif-") as tmp:
        out = Path(tmp) / "out.sarif"
        subprocess.run([sys.executable, "-m", "moncheck.cli", "check", "--format", "sarif", "--output", str(out), *sys.argv[3:]],
                       cwd=repo, capture_output=True, check=False)
        doc = json.loads(out.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(doc))
    print(f"sarif: {repo}: {len(doc['runs'][0]['results'])} results, {len(errors)} schema violations")
    for e in errors[:10]:
        print(f"  {'/'.join(map(str, e.absolute_path))}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
