"""sign-in, sign-up and pairing throttles by client address and by account

The per-email lockout table goes: its counters are replaced by keyed-hash counters of any
throttled source (client address, email, known device). Counters last minutes, so none are
carried over. Addresses that signed in to an account are kept as keyed hashes beside it, so
nobody else's failures hold sign-ins from them up.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:20:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column(
            "window_start", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_hit_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_throttle_counters_last_hit_at"), ["last_hit_at"], unique=False
        )
    op.create_table(
        "known_addresses",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column(
            "last_seen_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_known_addresses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_known_addresses")),
    )
    with op.batch_alter_table("known_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_known_addresses_last_seen_at"), ["last_seen_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_known_addresses_user_id"), ["user_id"], unique=False)
    op.drop_table("login_throttle")


def downgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "first_failure_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "locked_until", doorstep.platform.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("known_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_addresses_user_id"))
        batch_op.drop_index(batch_op.f("ix_known_addresses_last_seen_at"))
    op.drop_table("known_addresses")
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_counters_last_hit_at"))
    op.drop_table("throttle_counters")
