"""bystander requests: anyone asks owners in an area to blur or delete footage of them

A request keeps no requester identity, only the hash of its status link; the owners it asked
are kept per request with the counts of what they blurred and deleted (no clip ids).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 13:15:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bystander_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("area_sq_mi", sa.Float(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column(
            "window_start", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("window_end", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bystander_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_bystander_requests_token_hash")),
    )
    with op.batch_alter_table("bystander_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bystander_requests_created_at"), ["created_at"], unique=False
        )
    op.create_table(
        "bystander_recipients",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("asked_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blurred", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_bystander_recipients_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["bystander_requests.id"],
            name=op.f("fk_bystander_recipients_request_id_bystander_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "owner_id", name=op.f("pk_bystander_recipients")),
    )
    with op.batch_alter_table("bystander_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bystander_recipients_owner_id"), ["owner_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bystander_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bystander_recipients_owner_id"))
    op.drop_table("bystander_recipients")
    with op.batch_alter_table("bystander_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bystander_requests_created_at"))
    op.drop_table("bystander_requests")
