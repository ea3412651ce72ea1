"""Date-times read back as they were written, whichever parser reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from tortoise import connections
from tortoise.fields import DatetimeField

from models.api_key import ApiKey
from models.timestamps import Timestamp
from tests.helpers import sign_up


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


async def test_sqlite_stores_text_that_the_fast_parser_reads(db):
    if connections.get("default").capabilities.dialect != "sqlite":
        pytest.skip("only SQLite stores date-times as text")
    ada = await sign_up("ada")
    written = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    key = await ApiKey.create(user=ada.user, name="k", prefix="p", key_hash="h")
    await ApiKey.filter(id=key.id).update(last_used_at=written)

    _, rows = await connections.get("default").execute_query(
        "SELECT last_used_at FROM api_key WHERE id = ?", [key.id]
    )

    stored = rows[0]["last_used_at"]
    assert isinstance(stored, str)
    assert datetime.fromisoformat(stored) == written
