"""memberships by invitation: agency and household invitations the person accepts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 18:20:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=True),
        sa.Column("camera_id", sa.String(length=32), nullable=True),
        sa.Column("invited_by", sa.String(length=32), nullable=True),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("code_tries", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_invitations_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_invitations_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        for column in ("email", "agency_id", "camera_id", "invited_by", "expires_at"):
            batch_op.create_index(batch_op.f(f"ix_invitations_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        for column in ("email", "agency_id", "camera_id", "invited_by", "expires_at"):
            batch_op.drop_index(batch_op.f(f"ix_invitations_{column}"))
    op.drop_table("invitations")
