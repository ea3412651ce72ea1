from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.entity import name_key

logger = logging.getLogger(__name__)


async def lookalike_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    # `name_key` now folds look-alikes (NFKC, no invisible characters, the confusable
    # skeleton); ASCII names keep their keys, so most rows stay as they are.
    await _rekey(apps, schema_editor, name_key)


async def casefolded_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _rekey(apps, schema_editor, str.casefold)  # what `name_key` was


async def _rekey(
    apps: StateApps, schema_editor: BaseSchemaEditor, key: Callable[[str], str]
) -> None:
    for model_name in ("Entity", "Organization"):
        model = apps.get_model("models", model_name)
        column = model._meta.fields_map["name_key"]
        assert isinstance(column, fields.CharField)  # noqa: S101 - it is one in 0001
        limit = column.max_length
        rows = (
            await model.all()
            .using_db(schema_editor.client)
            .order_by("id")
            .values_list("id", "name", "name_key")
        )
        moves, left = _moves(rows, key, limit)
        for row_id, new_key in moves:
            await model.filter(id=row_id).using_db(schema_editor.client).update(name_key=new_key)
        for row_id, name in left:
            # repr: a name may hold bidi overrides and invisible characters.
            logger.warning(
                "%s %s (%r) keeps its old name key: its new one is another row's or too long",
                model_name,
                row_id,
                name,
            )


def _moves(
    rows: Sequence[Sequence[Any]], key: Callable[[str], str], limit: int
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The (id, new key) updates that keep every key unique after each one, in order,
    and the (id, name) of the rows left with their old key.

    Existing look-alikes must not stop the migration, nor take a key from the row that
    holds it: a row keeps its key when the new one is the same or another row holds it,
    so whatever found a row by its key before finds the same row after (a twin left
    with its old key is still reached by id; its name now leads to the holder). Of rows
    wanting one free key, the oldest takes it and the others keep theirs; keys freed by
    a move are offered again until nothing moves. A row keeps its key, too, when the new
    one would not fit the column (NFKC can lengthen a name). Only rows with a non-ASCII
    name can move: an ASCII name's key is what it was."""
    held = {old: row_id for row_id, _, old in rows}
    wanting: list[tuple[int, str, str, str]] = []
    left: list[tuple[int, str]] = []
    for row_id, name, old in rows:
        new = key(name)
        if new == old:
            continue
        if len(new) > limit:
            left.append((row_id, name))
        else:
            wanting.append((row_id, name, old, new))
    moves: list[tuple[int, str]] = []
    moved = True
    while moved:
        moved = False
        waiting = []
        for row_id, name, old, new in wanting:
            if new in held:
                waiting.append((row_id, name, old, new))
                continue
            del held[old]
            held[new] = row_id
            moves.append((row_id, new))
            moved = True
        wanting = waiting
    left.extend((row_id, name) for row_id, name, _, _ in wanting)
    return moves, sorted(left)


class Migration(migrations.Migration):
    dependencies = [("models", "0003_organization_name_statistics")]

    operations = [ops.RunPython(lookalike_keys, reverse_code=casefolded_keys)]
