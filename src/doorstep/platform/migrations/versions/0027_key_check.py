"""the master key's check: which master key the database's data keys are wrapped by

``key_check`` holds one row, a digest of a key derived from the master key, written at the
first start and by ``doorstep admin rotate-master-key``; a server started with another key
refuses to start.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 16:40:00
"""

import sqlalchemy as sa
from alembic import op

from doorstep.platform.types import UTCDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_check")),
    )


def downgrade() -> None:
    op.drop_table("key_check")
