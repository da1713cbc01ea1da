"""push devices: the browsers' Web Push subscriptions an account gets notified on

Each row is one browser's subscription (its endpoint, a capability URL, and the keys payloads
are encrypted to), with what the last delivery said so its owner can see a device that stopped
working. The same endpoint subscribed again by the same account is that row.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 03:00:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_WHEN = doorstep.platform.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_devices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("endpoint_sha256", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=255), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_success_at", _WHEN, nullable=True),
        sa.Column("last_failure_at", _WHEN, nullable=True),
        sa.Column("last_failure", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_push_devices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_devices")),
        sa.UniqueConstraint("user_id", "endpoint_sha256", name=op.f("uq_push_devices_user_id")),
    )
    with op.batch_alter_table("push_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_devices_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("push_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_devices_user_id"))
    op.drop_table("push_devices")
