"""Notifications that reach a closed app: Web Push devices and what each event sends them."""
