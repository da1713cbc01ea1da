"""email: verified addresses, single-use mailed links, seen browsers, Apprise targets

``users.email_verified_at`` says when the address was proven; ``email_links`` keeps only the hash
of each verification or reset link's secret; ``seen_browsers`` (keyed hashes) lets a sign-in from
a browser the account has not seen send a "new sign-in" mail; ``notice_targets`` holds sealed
Apprise URLs.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:10:00
"""

import sqlalchemy as sa
from alembic import op

import doorstep.platform.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_WHEN = doorstep.platform.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", _WHEN, nullable=True))
    op.create_table(
        "email_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_email_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_links")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_email_links_secret_hash")),
    )
    op.create_index(op.f("ix_email_links_user_id"), "email_links", ["user_id"])
    op.create_index(op.f("ix_email_links_expires_at"), "email_links", ["expires_at"])
    op.create_table(
        "seen_browsers",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_seen_browsers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seen_browsers")),
    )
    op.create_index(op.f("ix_seen_browsers_user_id"), "seen_browsers", ["user_id"])
    op.create_table(
        "notice_targets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("sealed_url", sa.LargeBinary(), nullable=False),
        sa.Column("masked", sa.String(length=200), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_failure", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notice_targets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_targets")),
    )
    op.create_index(op.f("ix_notice_targets_user_id"), "notice_targets", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_targets_user_id"), table_name="notice_targets")
    op.drop_table("notice_targets")
    op.drop_index(op.f("ix_seen_browsers_user_id"), table_name="seen_browsers")
    op.drop_table("seen_browsers")
    op.drop_index(op.f("ix_email_links_expires_at"), table_name="email_links")
    op.drop_index(op.f("ix_email_links_user_id"), table_name="email_links")
    op.drop_table("email_links")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
