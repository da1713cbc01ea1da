"""The HTTP API: FastAPI routers, one per area, and the app factory."""
