"""agencies."""
