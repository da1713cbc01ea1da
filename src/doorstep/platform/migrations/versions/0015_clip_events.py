"""events announced as they start, and clips as segments of one event

An agent announces an event as it begins and cuts a long one into segments: each clip may name
its event (``event_id``, made by the agent) and its place in it (``segment`` 0, 1, 2 ...), and
``clip_events`` remembers whether the event has alerted its owner yet, so it alerts once.
Existing clips are each an event of their own (no ``event_id``, segment 0).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 23:40:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("segment", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.alter_column("segment", server_default=None)
    op.create_table(
        "clip_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.Column(
            "announced_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_clip_events_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip_events")),
        sa.UniqueConstraint("camera_id", "event_id", name=op.f("uq_clip_events_camera_id")),
    )
    with op.batch_alter_table("clip_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clip_events_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clip_events_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clip_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clip_events_started_at"))
        batch_op.drop_index(batch_op.f("ix_clip_events_camera_id"))
    op.drop_table("clip_events")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("segment")
        batch_op.drop_column("event_id")
