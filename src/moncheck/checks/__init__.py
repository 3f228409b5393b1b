"""moncheck.checks."""
