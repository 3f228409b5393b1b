"""moncheck.tools."""
