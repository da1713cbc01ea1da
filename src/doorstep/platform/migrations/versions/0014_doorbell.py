"""the doorbell: rings, live sessions' signalling, and household live view

A press of a camera's button is a ring; a browser's live view of a camera is a live session
whose offer and answer the server relays (the media goes peer to peer). Household members get
``live_view``, off until the owner allows it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 23:50:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_WHEN = doorstep.platform.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("live_view", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "doorbell_rings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=32), nullable=False),
        sa.Column("pressed_at", _WHEN, nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("answered_at", _WHEN, nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_doorbell_rings_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"],
            ["users.id"],
            name=op.f("fk_doorbell_rings_answered_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doorbell_rings")),
    )
    with op.batch_alter_table("doorbell_rings", schema=None) as batch_op:
        for column in ("camera_id", "answered_by"):
            batch_op.create_index(batch_op.f(f"ix_doorbell_rings_{column}"), [column], unique=False)
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("ring_id", sa.String(length=32), nullable=True),
        sa.Column("offer_sdp", sa.Text(), nullable=False),
        sa.Column("answer_sdp", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("audio", sa.Boolean(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("ended_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_live_sessions_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ring_id"],
            ["doorbell_rings.id"],
            name=op.f("fk_live_sessions_ring_id_doorbell_rings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        for column in ("camera_id", "user_id", "ring_id"):
            batch_op.create_index(batch_op.f(f"ix_live_sessions_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("live_sessions")
    op.drop_table("doorbell_rings")
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.drop_column("live_view")
