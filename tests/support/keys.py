"""API keys for tests: made through the API, and the Authorization value of one."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.helpers import Account, GraphQL

GENERATE = """
mutation($name: String!) {
  generateApiKey(input: {name: $name}) { secret apiKey { id prefix } errors { field code } }
}
"""
GENERATE_INPUT = """
mutation($input: GenerateApiKeyInput!) {
  generateApiKey(input: $input) {
    secret apiKey { id name scopes expiresAt } errors { field code message }
  }
}
"""


def basic(secret: str, login: str = "api") -> str:
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()


async def new_key(api: GraphQL, account: Account) -> tuple[str, str]:
    """The secret and id of a new key of `account`'s, of the default scopes."""
    data = await api.signed_in(account).execute(GENERATE, {"name": "laptop"})
    return data["generateApiKey"]["secret"], data["generateApiKey"]["apiKey"]["id"]


async def generate(client: GraphQL, **key_input: Any) -> dict[str, Any]:
    """generateApiKey's payload for `key_input` (named "k" unless it says otherwise)."""
    data = await client.execute(GENERATE_INPUT, {"input": {"name": "k", **key_input}})
    generated: dict[str, Any] = data["generateApiKey"]
    return generated


async def scoped(api: GraphQL, account: Account, *scopes: str) -> str:
    """The Authorization value of a new key of `account`'s with these scopes."""
    generated = await generate(api.signed_in(account), scopes=list(scopes))
    assert generated["errors"] == []
    return basic(generated["secret"])
