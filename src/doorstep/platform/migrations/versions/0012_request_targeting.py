"""requests targeted by public cell, with the cells kept for overlap checks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 18:20:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rfa_cells",
        sa.Column("rfa_id", sa.String(length=32), nullable=False),
        sa.Column("cell", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["rfa_id"], ["rfas.id"], name=op.f("fk_rfa_cells_rfa_id_rfas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rfa_id", "cell", name=op.f("pk_rfa_cells")),
    )
    with op.batch_alter_table("rfa_cells", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rfa_cells_cell"), ["cell"], unique=False)
    # Requests made before keep the cells they were stored with, so the overlap check sees them.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, cells FROM rfas")).all()
    table = sa.table("rfa_cells", sa.column("rfa_id"), sa.column("cell"))
    for rfa_id, cells in rows:
        listed = json.loads(cells) if isinstance(cells, str) else cells
        values = [{"rfa_id": rfa_id, "cell": str(cell)} for cell in sorted(set(listed or []))]
        if values:
            op.bulk_insert(table, values)


def downgrade() -> None:
    with op.batch_alter_table("rfa_cells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rfa_cells_cell"))
    op.drop_table("rfa_cells")
