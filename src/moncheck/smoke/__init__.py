"""moncheck.smoke."""
