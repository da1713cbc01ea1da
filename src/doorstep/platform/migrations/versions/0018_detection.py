"""objects a camera detects: named zones, rules per label, retention per kind, objects on clips

A camera's owner names detection zones (``detection_zones``: ``[{"name", "polygon"}]``) and says
per label what a detection does (``object_rules``: ``{"person": {"mode": "alert" | "detection" |
"off", "zones": [names], "dwell_seconds": n}}``; empty means the defaults), whether objects that
do not move are ignored (``ignore_stationary``), and how long detections and motion-only clips
are kept (``detection_retention_days`` / ``motion_retention_days``; NULL means ``retention_days``,
which alerts keep). Each clip records the objects seen on its snapshot (``objects``: label, score,
box as fractions of the frame, zones entered) and its ``kind``: alert, detection or motion.
Existing clips get the kind a new one would: an alert when the doorbell was pressed or its
event alerted, a detection when it carries an object label, else motion.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The rule as it stood when this was written (clips.rules_objects.clip_kind), kept here so a
# later change to the app's rule does not change what this migration did.
_OBJECT_LABELS = frozenset({"person", "vehicle", "bicycle", "animal"})


def _kind(labels: object, *, alerted: bool) -> str:
    seen = labels if isinstance(labels, list) else []
    if alerted or "ring" in seen:
        return "alert"
    if any(label in _OBJECT_LABELS for label in seen):
        return "detection"
    return "motion"


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("detection_zones", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("object_rules", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(
            sa.Column("ignore_stationary", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("detection_retention_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("motion_retention_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("objects", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="motion")
        )
    _set_kinds(op.get_bind())
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.alter_column("detection_zones", server_default=None)
        batch_op.alter_column("object_rules", server_default=None)
        batch_op.alter_column("ignore_stationary", server_default=None)
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.alter_column("objects", server_default=None)
        batch_op.alter_column("kind", server_default=None)


def _set_kinds(bind: sa.engine.Connection) -> None:
    clips = sa.table(
        "clips",
        sa.column("id", sa.String()),
        sa.column("camera_id", sa.String()),
        sa.column("event_id", sa.String()),
        sa.column("labels", sa.JSON()),
        sa.column("kind", sa.String()),
    )
    events = sa.table(
        "clip_events",
        sa.column("camera_id", sa.String()),
        sa.column("event_id", sa.String()),
        sa.column("alerted", sa.Boolean()),
    )
    joined = clips.outerjoin(
        events,
        sa.and_(events.c.camera_id == clips.c.camera_id, events.c.event_id == clips.c.event_id),
    )
    query = sa.select(clips.c.id, clips.c.labels, events.c.alerted).select_from(joined)
    kinds: dict[str, list[str]] = {"alert": [], "detection": []}
    for row in bind.execute(query):
        kind = _kind(row.labels, alerted=bool(row.alerted))
        if kind in kinds:
            kinds[kind].append(row.id)
    for kind, ids in kinds.items():
        for start in range(0, len(ids), 500):
            bind.execute(
                clips.update().where(clips.c.id.in_(ids[start : start + 500])).values(kind=kind)
            )


def downgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("kind")
        batch_op.drop_column("objects")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("motion_retention_days")
        batch_op.drop_column("detection_retention_days")
        batch_op.drop_column("ignore_stationary")
        batch_op.drop_column("object_rules")
        batch_op.drop_column("detection_zones")
