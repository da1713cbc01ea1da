"""partnerships."""
