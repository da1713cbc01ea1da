"""cameras read quiet hours in their own time zone

Quiet hours were compared with the UTC clock, so an owner in Los Angeles typing 22:00-07:00 got
14:00-23:00 local. ``cameras.time_zone`` is the IANA zone the owner's browser was in when the
settings were saved; cameras from before keep reading them in UTC, as they did.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC")
        )


def downgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
