"""case numbers compared by their normalised key

Every request keeps the key ``policy_text.case_key`` gives its case number, and the per-case
limit counts requests by it: "rt case 7", "RT-CASE-７" and "RT-CАSE-7" are one case. Existing
requests get their key here. Should ``case_key`` ever change, a later migration recomputes the
keys the same way, so old and new requests are counted alike.

The key is public record like the case number: the guard that refuses edits to a request
(0005) is made again with the key among the frozen columns (SQLite also loses its triggers when
a batch operation copies the table).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:20:00
"""

import sqlalchemy as sa
from alembic import op

from doorstep.text.normalize import case_key

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_rfas = sa.table(
    "rfas",
    sa.column("id", sa.String(32)),
    sa.column("case_number", sa.String(60)),
    sa.column("case_key", sa.String(240)),
)
_FROZEN = (
    "agency_id, case_number, incident_type, description, area, circle_lat, circle_lon, "
    "circle_radius_m, area_sq_mi, cells, window_start, window_end, created_at"
)


def _guard(frozen: str) -> None:
    if _pg():
        op.execute(
            """CREATE FUNCTION rfas_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'requests for assistance cannot be edited or deleted'; END $$"""
        )
        op.execute(
            f"""CREATE TRIGGER rfas_frozen BEFORE UPDATE OF {frozen} ON rfas
            FOR EACH ROW EXECUTE FUNCTION rfas_refuse()"""
        )
        op.execute(
            "CREATE TRIGGER rfas_kept BEFORE DELETE ON rfas "
            "FOR EACH ROW EXECUTE FUNCTION rfas_refuse()"
        )
        return
    op.execute(
        f"""CREATE TRIGGER rfas_frozen BEFORE UPDATE OF {frozen} ON rfas
        BEGIN SELECT RAISE(ABORT, 'requests for assistance cannot be edited'); END"""
    )
    op.execute(
        """CREATE TRIGGER rfas_kept BEFORE DELETE ON rfas
        BEGIN SELECT RAISE(ABORT, 'requests for assistance cannot be deleted'); END"""
    )


def _unguard() -> None:
    op.execute("DROP TRIGGER IF EXISTS rfas_frozen" + (" ON rfas" if _pg() else ""))
    op.execute("DROP TRIGGER IF EXISTS rfas_kept" + (" ON rfas" if _pg() else ""))
    if _pg():
        op.execute("DROP FUNCTION IF EXISTS rfas_refuse()")


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    op.add_column("rfas", sa.Column("case_key", sa.String(length=240), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(_rfas.c.id, _rfas.c.case_number)).all()
    for rfa_id, case_number in rows:
        connection.execute(
            _rfas.update().where(_rfas.c.id == rfa_id).values(case_key=case_key(case_number))
        )
    _unguard()
    with op.batch_alter_table("rfas", schema=None) as batch_op:
        batch_op.alter_column("case_key", existing_type=sa.String(length=240), nullable=False)
        batch_op.drop_index("ix_rfas_agency_id_case_number")
        batch_op.create_index("ix_rfas_agency_id_case_key", ["agency_id", "case_key"], unique=False)
    _guard(f"{_FROZEN}, case_key")


def downgrade() -> None:
    _unguard()
    with op.batch_alter_table("rfas", schema=None) as batch_op:
        batch_op.drop_index("ix_rfas_agency_id_case_key")
        batch_op.create_index(
            "ix_rfas_agency_id_case_number", ["agency_id", "case_number"], unique=False
        )
        batch_op.drop_column("case_key")
    _guard(_FROZEN)
