"""The entity a caller acts for: its own account's, or a team it belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from models.entity import Entity as EntityModel
from models.entity import name_key
from models.team import TeamMember
from models.user import User
from resolvers.context import Info
from resolvers.validation import lookup_key
from schema.entity import Entity
from schema.team import viewer_role


async def entity(info: Info, name: str) -> Entity | None:
    """A user's or team's entity, for the viewer who may see it: its own, a team it
    belongs to, any for a site admin. Anyone else gets the null a name that does not
    exist gets, so that no name can be probed; so do deleted entities."""
    viewer = info.context.user
    key = lookup_key(name)
    if viewer is None or key is None:
        return None
    if key == name_key(viewer.username):
        own = await info.context.loaders.entity_by_id.load(viewer.entity_id)
        return None if own is None else Entity.from_model(own)
    found = await info.context.loaders.team_by_name_key.load(key)
    if found is not None:
        if viewer.admin or await viewer_role(info, found.team_id) is not None:
            return Entity.from_row(found)
        return None
    if not viewer.admin:
        return None
    account = await EntityModel.filter(name_key=key, is_team=False, deleted_at=None).first()
    return None if account is None else Entity.from_model(account)


@dataclass(frozen=True)
class ActingFor:
    entity_id: int
    #: The entity's name as registered (its case, not the caller's).
    name: str


async def acting_for(account: User, entity_name: str, *, lock: bool = False) -> ActingFor | None:
    """The entity `account` may act for under `entity_name` (any case): its own, or a
    team it is a member of. None for any other name, whether a team of that name
    exists or not, so that callers answer both alike and no name can be probed.

    With `lock`, the membership and its team stay locked until the transaction ends
    (on PostgreSQL): a removal from the team, which locks the team first, cannot slip
    between the caller's check and its write."""
    key = lookup_key(entity_name)
    if key is None:
        return None
    if key == name_key(account.username):
        return ActingFor(account.entity_id, account.username)
    memberships = TeamMember.filter(user_id=account.id, team__entity__name_key=key)
    query = memberships.select_related("team")
    membership = await (query.select_for_update() if lock else query).first()
    if membership is None:
        return None
    return ActingFor(membership.team.entity_id, membership.team.name)
