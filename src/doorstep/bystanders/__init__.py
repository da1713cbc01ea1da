"""Bystander requests: anyone asks owners in an area to blur or delete footage of them."""
