"""Server-rendered pages and our own static assets (nothing from another origin: invariant I8)."""
