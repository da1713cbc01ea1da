"""previews remember how they were redacted

Redaction now covers each head under one flat colour; previews kept from before were blurred,
which a face detector can still see through. ``clip_previews.method`` records the redaction a
preview was made with (existing ones: ``faces-blurred``) so an old one is made again before it is
shown or copied into a share.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 07:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clip_previews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "method", sa.String(length=24), nullable=False, server_default="faces-blurred"
            )
        )
    with op.batch_alter_table("clip_previews", schema=None) as batch_op:
        batch_op.alter_column("method", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("clip_previews", schema=None) as batch_op:
        batch_op.drop_column("method")
