"""A database error's log line names the statement, never its parameters.

SQLAlchemy puts a failed statement's parameters into the exception's message; logged with its
traceback, that would write exact coordinates, ids or token hashes into the ``exception`` field.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from doorstep.platform.db import make_engine
from tests.platform.logs_capture import captured_logs

#: Values no log may carry: a token hash and a home's exact latitude.
TOKEN_HASH = "9f2c4e1ab7d35c08e6f1a2b3c4d5e6f7"
LATITUDE = "48.8583701"


def test_an_integrity_error_is_logged_without_its_parameters(database_url: str) -> None:
    engine = make_engine(database_url)
    assert engine.hide_parameters is True
    metadata = MetaData()
    table = Table(
        "leak_probe",
        metadata,
        Column("token_hash", String(64), primary_key=True),
        Column("latitude", String(32)),
    )
    try:
        metadata.create_all(engine)
        row = {"token_hash": TOKEN_HASH, "latitude": LATITUDE}
        with captured_logs() as logs:
            try:
                with engine.begin() as connection:
                    connection.execute(insert(table).values(**row))
                    connection.execute(insert(table).values(**row))
            except IntegrityError:
                logging.getLogger("doorstep.test").exception("could not store the row")
    finally:
        metadata.drop_all(engine)
        engine.dispose()
    (line,) = logs.parsed()
    assert "IntegrityError" in line["exception"]
    assert "hidden due to hide_parameters" in line["exception"]
    for private in (TOKEN_HASH, LATITUDE):
        assert private not in "\n".join(logs.lines)
