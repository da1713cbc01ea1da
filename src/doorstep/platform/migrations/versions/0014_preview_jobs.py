"""the owner's redacted preview is made by a job whose state every API process can read

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 21:40:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "preview_jobs",
        sa.Column("clip_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("updated_at", doorstep.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
            name=op.f("fk_preview_jobs_clip_id_clips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clip_id", name=op.f("pk_preview_jobs")),
    )


def downgrade() -> None:
    op.drop_table("preview_jobs")
