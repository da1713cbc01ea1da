"""platform/http."""
