"""The inputs and payload of an OAuth connection flow, shared by every provider."""

from __future__ import annotations

import strawberry

from schema.common import UserError


@strawberry.input
class StartConnectInput:
    redirect_uri: str | None = strawberry.field(
        default=None,
        description="Where the provider sends the browser back; must be one the server allows.",
    )


@strawberry.type
class StartConnectPayload:
    authorize_url: str | None = strawberry.field(
        default=None,
        description=(
            "The provider's authorize URL, carrying a single-use `state` bound to the viewer."
        ),
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CompleteConnectInput:
    code: str
    state: str


@strawberry.input
class DisconnectInput:
    client_mutation_id: str | None = None
