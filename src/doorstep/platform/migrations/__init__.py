"""Alembic migrations; applied by ``doorstep migrate`` and on ``serve``/``demo`` start."""
