"""Alembic environment: runs against the connection handed over by ``doorstep.platform.migrate``.

The tables' metadata is handed over the same way, and only when a migration is generated:
applying migrations needs none, and platform imports no feature's models.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("metadata"),
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
