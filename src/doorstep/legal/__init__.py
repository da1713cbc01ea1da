"""legal."""
