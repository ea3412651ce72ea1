"""Rows made directly with the models, for what another domain's API makes."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.models import Model

from models.entity import Entity, name_key
from models.team import Team, TeamMember, TeamRole, TeamType
from tests.helpers import Account


async def make_team(name: str, *members: tuple[Account, TeamRole]) -> Team:
    """A team entity with these members (and no admin unless one is given)."""
    entity = await Entity.create(name=name, name_key=name_key(name), is_team=True)
    team = await Team.create(entity=entity, name=name, type=TeamType.WORK)
    for account, role in members:
        await TeamMember.create(team=team, user_id=account.user.id, role=role)
    return team


def all_models() -> list[type[Model]]:
    return sorted(Tortoise.apps["models"].values(), key=lambda m: m._meta.db_table)


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, to show that a refused request wrote nothing."""
    return {
        model._meta.db_table: await model.all().order_by(model._meta.pk_attr).values()
        for model in all_models()
    }
