"""Date-times read back as they were written, whichever parser reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from tortoise import connections
from tortoise.fields import DatetimeField

from models.api_key import ApiKey
from models.timestamps import Timestamp
from tests.support.helpers import sign_up


async def test_a_written_date_time_reads_back_equal_and_in_utc(db):
    ada = await sign_up("ada")
    written = datetime(2026, 11, 27, 16, 25, 1, 123456, tzinfo=timezone(timedelta(hours=2)))
    key = await ApiKey.create(user=ada.user, name="k", prefix="p", key_hash="h")
    await ApiKey.filter(id=key.id).update(last_used_at=written)

    read = await ApiKey.get(id=key.id)

    assert read.last_used_at == written
    assert read.last_used_at is not None and read.last_used_at.utcoffset() == timedelta(0)
    assert read.created_at.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27 14:25:01.123456+00:00",
        "2026-11-27T14:25:01+02:00",
        "2026-11-27 14:25:01",
        "2026-11-27T14:25:01.5Z",
    ],
)
def test_sqlite_text_is_read_as_tortoise_reads_it(text):
    assert Timestamp().to_python_value(text) == DatetimeField().to_python_value(text)


#: The raw column, by whether the database is SQLite (placeholders differ).
LAST_USED = {
    True: "SELECT last_used_at FROM api_key WHERE id = ?",
    False: "SELECT last_used_at FROM api_key WHERE id = $1",
}


async def test_what_the_database_stores_is_what_the_fast_parser_reads(db):
    ada = await sign_up("ada")
    written = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    key = await ApiKey.create(user=ada.user, name="k", prefix="p", key_hash="h")
    await ApiKey.filter(id=key.id).update(last_used_at=written)
    connection = connections.get("default")
    sqlite = connection.capabilities.dialect == "sqlite"

    _, rows = await connection.execute_query(LAST_USED[sqlite], [key.id])

    stored = rows[0]["last_used_at"]
    if sqlite:  # ISO text, for `datetime.fromisoformat`
        assert isinstance(stored, str)
        stored = datetime.fromisoformat(stored)
    else:  # a datetime already: nothing to parse
        assert isinstance(stored, datetime)
    assert stored == written
