"""pytest plugin module (filled in by its owner)."""
