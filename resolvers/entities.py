"""The entity a caller acts for: its own account's, or a team it belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from models.entity import name_key
from models.team import TeamMember
from models.user import User
from resolvers.validation import lookup_key


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
