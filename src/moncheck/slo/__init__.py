"""moncheck.slo."""
