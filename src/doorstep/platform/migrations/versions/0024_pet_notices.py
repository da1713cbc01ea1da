"""lost-pet notices and the face-redacted copies owners chose to share with them

``pet_notices`` holds a resident's notice (species, description, optional cleaned photo, the
last-seen area and the public cells it reaches, a window of at most 72 hours). ``pet_shares``
holds one copy an owner shared with one notice, sealed under its own key (NULL once withdrawn
or the notice closed: the copy is shredded).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 13:30:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_WHEN = doorstep.platform.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pet_notices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poster_id", sa.String(length=32), nullable=False),
        sa.Column("species", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("circle_lat", sa.Float(), nullable=True),
        sa.Column("circle_lon", sa.Float(), nullable=True),
        sa.Column("circle_radius_m", sa.Float(), nullable=True),
        sa.Column("area_sq_mi", sa.Float(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("window_start", _WHEN, nullable=False),
        sa.Column("window_end", _WHEN, nullable=False),
        sa.Column("photo_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("closed_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["poster_id"],
            ["users.id"],
            name=op.f("fk_pet_notices_poster_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pet_notices")),
    )
    op.create_index(op.f("ix_pet_notices_poster_id"), "pet_notices", ["poster_id"])
    op.create_index(op.f("ix_pet_notices_window_end"), "pet_notices", ["window_end"])
    op.create_table(
        "pet_shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("clip_id", sa.String(length=32), nullable=True),
        sa.Column("clip_started_at", _WHEN, nullable=False),
        sa.Column("clip_ended_at", _WHEN, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("ciphertext_size", sa.Integer(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("withdrawn_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["pet_notices.id"],
            name=op.f("fk_pet_shares_notice_id_pet_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_pet_shares_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clip_id"], ["clips.id"], name=op.f("fk_pet_shares_clip_id_clips"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pet_shares")),
    )
    op.create_index(op.f("ix_pet_shares_notice_id"), "pet_shares", ["notice_id"])
    op.create_index(op.f("ix_pet_shares_owner_id"), "pet_shares", ["owner_id"])
    op.create_index(op.f("ix_pet_shares_clip_id"), "pet_shares", ["clip_id"])


def downgrade() -> None:
    op.drop_table("pet_shares")
    op.drop_table("pet_notices")
