"""platform/queue."""
