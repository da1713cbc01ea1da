"""agencies have a level; requests name an offence category; shares keep their terms version

Only local agencies may send requests, so an agency's level (local, state, federal) is stored:
agencies verified before levels were recorded were all local police or fire services (federal
ones were refused by name), so they read ``local``. Requests from before offence categories read
"" ("not recorded"); shares from before the onward-use terms were versioned keep NULL.

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-06 13:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0020"
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


def downgrade() -> None:
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_column("terms_version")
    with op.batch_alter_table("rfas", schema=None) as batch_op:
        batch_op.drop_index("ix_rfas_offence_category")
        batch_op.drop_column("offence_category")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_column("level")
