"""moncheck.stack."""
