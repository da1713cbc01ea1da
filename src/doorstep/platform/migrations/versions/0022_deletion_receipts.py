"""deletion receipts: what an owner needs to rebuild the receipt of a deletion

A deleted clip or camera writes a "keys destroyed" entry into the audit log under a pseudonym
committing to what went; the nonce of that commitment is kept here for its owner only.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deletion_receipts",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("what", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["audit_entries.seq"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_deletion_receipts_owner_id", "deletion_receipts", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_deletion_receipts_owner_id", table_name="deletion_receipts")
    op.drop_table("deletion_receipts")
