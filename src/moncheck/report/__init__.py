"""moncheck.report."""
