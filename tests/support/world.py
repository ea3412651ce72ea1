"""A small world for the permission matrix and the attack corpus: a team with an
admin and a member, an outsider and a site admin, and something of the team admin's
in the tables an attack could reach."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from models.alert import AlertSubscription
from models.beta import BetaFeature
from tests.support.helpers import Account, GraphQL, sign_up
from tests.support.team_helpers import make_team

TEAM = "lab"
FEATURE = "dark-mode"
GENERATE_KEY = 'mutation { generateApiKey(input: {name: "tracker"}) { apiKey { id } secret } }'
RECORD = """
mutation($entity: String!) {
  recordStoredFiles(input: {entityName: $entity, projectName: "p",
                            files: [{path: "model.bin", category: RUN_FILES, sizeBytes: 10}]}) {
    errors { code }
  }
}
"""


@dataclass(frozen=True)
class World:
    admin: Account  #: alice, ADMIN of the team
    member: Account  #: bob, MEMBER of the team
    outsider: Account  #: carol, in no team
    root: Account  #: a site administrator, in no team
    key_id: str  #: alice's API key
    key_secret: str

    @property
    def key_authorization(self) -> str:
        return "Basic " + base64.b64encode(f"api:{self.key_secret}".encode()).decode()


async def build_world(api: GraphQL) -> World:
    admin, member = await sign_up("alice"), await sign_up("bob")
    outsider, root = await sign_up("carol"), await sign_up("root", admin=True)
    await make_team(TEAM, admin, member)
    await BetaFeature.create(key=FEATURE, name="Dark mode", description="Dark.")
    generated = (await api.signed_in(admin).execute(GENERATE_KEY))["generateApiKey"]
    for who, entity in ((admin, "alice"), (admin, TEAM)):
        data = await api.signed_in(who).execute(RECORD, {"entity": entity})
        assert data["recordStoredFiles"]["errors"] == []
    # No deliveries: the dispatcher must not change rows between two snapshots.
    await AlertSubscription.all().update(enabled=False)
    return World(
        admin=admin,
        member=member,
        outsider=outsider,
        root=root,
        key_id=generated["apiKey"]["id"],
        key_secret=generated["secret"],
    )
