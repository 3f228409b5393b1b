"""moncheck.drills."""
