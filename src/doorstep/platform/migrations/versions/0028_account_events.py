"""account events kept a few minutes, so a page that reconnects gets those it missed

``account_events`` holds each event published to an account; its id is the server-sent event's
id (``Last-Event-ID``): 64-bit on PostgreSQL (a busy server passes 2**31 events), INTEGER on
SQLite, where only ``INTEGER PRIMARY KEY`` can be AUTOINCREMENT (and is 64-bit there anyway).
Rows older than the replay window are deleted as new events arrive.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 16:40:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["users.id"],
            name=op.f("fk_account_events_account_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_account_events_account_id_id", "account_events", ["account_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_account_events_created_at"), "account_events", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_account_events_created_at"), table_name="account_events")
    op.drop_index("ix_account_events_account_id_id", table_name="account_events")
    op.drop_table("account_events")
