"""Operations shared by migrations (a name starting with "_" is not a migration)."""

from tortoise.migrations import operations as ops


class DescribeField(ops.AlterField):
    """Only a field's description changes (an enum gained a member): the column stays
    as it is. Tortoise alters an SQLite column by rebuilding its table, which drops the
    table's unique rules and indexes."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        pass

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        pass
