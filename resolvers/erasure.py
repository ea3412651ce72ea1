"""Removing an account's rows, and a team's: the one way, shared by deleteAccount,
deleteTeam and deleteServiceAccount, run inside the caller's transaction.

An account's entity row stays as a tombstone with `deleted_at` set: the name stays
taken. `tokens_valid_after` is set to the same moment and never cleared, so
`auth.accounts` refuses every token issued before it, also once an account is made
again with the name. Once committed, the caller ends every socket the account opened,
on every process (`notifiers.hooks.CredentialsRevoked`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.expressions import F

from models.alert import AlertDelivery, AlertEvent, AlertSubscription
from models.api_key import ApiKey
from models.beta import UserBetaFeature
from models.destination import AlertRoute, Destination
from models.entity import Entity
from models.integration import GithubIntegration, OAuthState, SlackIntegration
from models.team import Invite, Team, TeamMember
from models.user import User as UserModel
from services import storage_ledger


@dataclass
class Doomed:
    """What one deletion removes, found under lock before anything is removed."""

    user_id: int
    entity_id: int
    photo_file: str | None = None
    github_token_sealed: str | None = None
    #: Teams whose only member is the user: they go with it.
    teams: list[Team] = field(default_factory=list)


async def erase_account(doomed: Doomed) -> list[int]:
    """Every row of the account and of the teams it leaves empty; the ids of the
    accounts removed (the service accounts of those teams, then this one)."""
    erased = await _delete_teams_left_empty(doomed)
    await _delete_memberships(doomed)
    await _delete_credentials(doomed)
    await _delete_preferences(doomed)
    await _delete_alerts(doomed)
    await _delete_integrations(doomed)
    await _delete_storage(doomed)
    await _delete_profile(doomed)
    return [*erased, doomed.user_id]


async def dissolve(doomed: list[Team]) -> list[int]:
    """Removes teams with their service accounts, memberships, invitations and stored
    files; nobody keeps one as the default place of new projects. Their entities are
    the caller's to keep or drop. Answers the ids of the service accounts removed."""
    entity_ids = [team.entity_id for team in doomed]
    team_ids = [team.id for team in doomed]
    # The storage writers' lock: a file report waiting on it finds the entity gone.
    await Entity.filter(id__in=entity_ids).select_for_update(no_key=True)
    service = await UserModel.filter(service=True, memberships__team_id__in=team_ids).values_list(
        "id", "entity_id"
    )
    for user_id, entity_id in service:  # a team's own: it has no life outside the team
        await erase_account(Doomed(user_id=user_id, entity_id=entity_id))
    await UserModel.filter(default_entity_id__in=entity_ids).update(
        default_entity_id=F("entity_id")
    )
    await storage_ledger.remove_all(entity_ids)
    await Invite.filter(team_id__in=team_ids).delete()
    await TeamMember.filter(team_id__in=team_ids).delete()
    await Team.filter(id__in=team_ids).delete()
    return [user_id for user_id, _ in service]


async def _delete_teams_left_empty(doomed: Doomed) -> list[int]:
    if not doomed.teams:
        return []
    erased = await dissolve(doomed.teams)
    await Entity.filter(id__in=[team.entity_id for team in doomed.teams]).delete()
    return erased


async def _delete_memberships(doomed: Doomed) -> None:
    await TeamMember.filter(user_id=doomed.user_id).delete()
    await Invite.filter(to_user_id=doomed.user_id).delete()
    # Invitations it sent stand: the invitee may still answer them.
    await Invite.filter(from_user_id=doomed.user_id).update(from_user_id=None)


async def _delete_credentials(doomed: Doomed) -> None:
    await ApiKey.filter(user_id=doomed.user_id).delete()
    await OAuthState.filter(user_id=doomed.user_id).delete()


async def _delete_preferences(doomed: Doomed) -> None:
    await UserBetaFeature.filter(user_id=doomed.user_id).delete()


async def _delete_alerts(doomed: Doomed) -> None:
    # Deliveries take their attempts with them, routes their links to destinations.
    await AlertDelivery.filter(user_id=doomed.user_id).delete()
    await AlertEvent.filter(user_id=doomed.user_id).delete()
    await AlertSubscription.filter(user_id=doomed.user_id).delete()
    await AlertRoute.filter(user_id=doomed.user_id).delete()
    await Destination.filter(user_id=doomed.user_id).delete()


async def _delete_integrations(doomed: Doomed) -> None:
    await SlackIntegration.filter(user_id=doomed.user_id).delete()
    await GithubIntegration.filter(user_id=doomed.user_id).delete()


async def _delete_storage(doomed: Doomed) -> None:
    await storage_ledger.remove_all([doomed.entity_id])


async def _delete_profile(doomed: Doomed) -> None:
    await UserModel.filter(id=doomed.user_id).delete()
    now = datetime.now(UTC)
    await Entity.filter(id=doomed.entity_id).update(
        deleted_at=now, tokens_valid_after=now, storage_limit_bytes=None
    )
