"""evidence downloads: bytes served per share and disclosure

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 18:20:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "served_ranges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("share_id", sa.String(length=32), nullable=True),
        sa.Column("disclosure_id", sa.String(length=32), nullable=True),
        sa.Column("reader_id", sa.String(length=32), nullable=True),
        sa.Column("first_byte", sa.Integer(), nullable=False),
        sa.Column("last_byte", sa.Integer(), nullable=False),
        sa.Column("at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["disclosure_id"], ["disclosures.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reader_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["share_id"], ["shares.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("served_ranges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_served_ranges_disclosure_id"), ["disclosure_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_served_ranges_reader_id"), ["reader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_served_ranges_share_id"), ["share_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("served_ranges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_served_ranges_share_id"))
        batch_op.drop_index(batch_op.f("ix_served_ranges_reader_id"))
        batch_op.drop_index(batch_op.f("ix_served_ranges_disclosure_id"))
    op.drop_table("served_ranges")
