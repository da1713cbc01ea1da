"""audit checkpoints: signed notes with the witnesses' cosignatures

The log publishes C2SP checkpoints beside its JSON tree heads; each one is kept with the
cosignatures its witnesses returned, so /checkpoint can serve the newest one enough of them signed.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 13:15:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cosigners", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_checkpoints_size", "audit_checkpoints", ["size"])


def downgrade() -> None:
    op.drop_index("ix_audit_checkpoints_size", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
