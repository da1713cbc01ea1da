"""indoor cameras, the indoor cameras a demand names, and an emergency's stated category

``cameras.indoor`` marks a camera inside the home: a legal demand reaches it only when its
document names it explicitly, which ``legal_demands.indoor_device_ids`` records.
``emergency_requests.category`` is the kind of emergency the agency stated, published with the
request for review after its delay; requests from before read "other".

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("indoor", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("legal_demands", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "indoor_device_ids", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
    with op.batch_alter_table("emergency_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sa.String(length=20), nullable=False, server_default="other")
        )


def downgrade() -> None:
    with op.batch_alter_table("emergency_requests", schema=None) as batch_op:
        batch_op.drop_column("category")
    with op.batch_alter_table("legal_demands", schema=None) as batch_op:
        batch_op.drop_column("indoor_device_ids")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("indoor")
