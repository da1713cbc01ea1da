"""agencies have a level; requests name an offence category; shares keep their terms version

Only local agencies may send requests, so an agency's level (local, state, federal) is stored:
agencies verified before levels were recorded were all local police or fire services (federal
ones were refused by name), so they read ``local``. Requests from before offence categories read
"" ("not recorded"); shares from before the onward-use terms were versioned keep NULL.
``standing_grants`` holds owners' forward-only standing access for a case to one camera.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 13:15:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("level", sa.String(length=10), nullable=False, server_default="local")
        )
    with op.batch_alter_table("rfas", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("offence_category", sa.String(length=24), nullable=False, server_default="")
        )
        batch_op.create_index("ix_rfas_offence_category", ["offence_category"], unique=False)
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms_version", sa.String(length=16), nullable=True))
    op.create_table(
        "standing_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("rfa_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=32), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("granted_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["rfa_id"], ["rfas.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("rfa_id", "owner_id", "camera_id", "ends_at"):
        op.create_index(f"ix_standing_grants_{column}", "standing_grants", [column])


def downgrade() -> None:
    op.drop_table("standing_grants")
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_column("terms_version")
    with op.batch_alter_table("rfas", schema=None) as batch_op:
        batch_op.drop_index("ix_rfas_offence_category")
        batch_op.drop_column("offence_category")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_column("level")
