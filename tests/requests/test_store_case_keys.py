"""Migration 0013 gives every existing request the key of its case number, and freezes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from doorstep.platform.db import make_engine
from doorstep.platform.migrate import migrate
from doorstep.text.normalize import case_key

NUMBERS = {"r1": "RT-CASE-7", "r2": "rt case \uff17", "r3": "PPB-2026-0042"}


def test_existing_requests_get_their_case_key_and_cannot_change_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0012")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO agencies (id, name, kind, jurisdiction, cells, contact, status,"
                " created_at) VALUES ('a1', 'PPB', 'law_enforcement', '{}', '[]', 'x@y.example',"
                " 'verified', '2026-01-01 00:00:00')"
            )
        )
        for rfa_id, number in NUMBERS.items():
            connection.execute(
                text(
                    "INSERT INTO rfas (id, agency_id, case_number, incident_type, description,"
                    " area, area_sq_mi, cells, window_start, window_end, created_at) VALUES"
                    " (:id, 'a1', :number, 'Burglary', 'x', '{}', 0.1, '[]',"
                    " '2026-01-01 00:00:00', '2026-01-01 01:00:00', '2026-01-01 02:00:00')"
                ),
                {"id": rfa_id, "number": number},
            )
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, case_key FROM rfas")).all()
    keys = {str(rfa_id): str(key) for rfa_id, key in rows}
    assert keys == {rfa_id: case_key(number) for rfa_id, number in NUMBERS.items()}
    assert keys["r1"] == keys["r2"] != keys["r3"]
    with pytest.raises(Exception, match="cannot be"), engine.begin() as connection:
        connection.execute(text("UPDATE rfas SET case_key = 'other' WHERE id = 'r1'"))
    with pytest.raises(Exception, match="cannot be"), engine.begin() as connection:
        connection.execute(text("DELETE FROM rfas WHERE id = 'r1'"))
    engine.dispose()
