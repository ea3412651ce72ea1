"""A token's `sub`, `email` and `name` are checked as the same fields of an input are:
a bad one is refused with UNAUTHENTICATED naming the claim, never a 500, and makes no
account."""

from __future__ import annotations

import email.utils
import time

import aiohttp
import pytest
from jose import jwt

import config
from models.entity import Entity
from models.user import User
from tests.support.ws import PROTOCOL

VIEWER = "{ viewer { username email name } }"


def token(**claims: object) -> str:
    now = int(time.time())
    return str(
        jwt.encode(
            {"sub": "mallory", "iat": now, "exp": now + 600, **claims},
            config.JWT_SECRET,
            algorithm="HS256",
        )
    )


async def refused(api, bearer: str) -> str:
    """The message of the refusal, once checked to be a clean UNAUTHENTICATED."""
    status, body = await api.signed_in(f"Bearer {bearer}").post(VIEWER)
    assert status == 401, body
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    return str(error["message"])


async def no_account_made() -> bool:
    return not await User.all().exists() and not await Entity.all().exists()


BAD_EMAILS = [
    pytest.param("a@example.com, b@example.com", id="list"),
    pytest.param("a@example.com,b@example.com", id="list-without-space"),
    pytest.param("a@example.com;b@example.com", id="semicolon-list"),
    pytest.param("Mallory <m@example.com>", id="display-name"),
    pytest.param("<m@example.com>", id="angle-brackets"),
    pytest.param('"a, b"@example.com', id="quoted-local-part"),
    pytest.param("m@example.com (Mallory)", id="comment"),
    pytest.param("undisclosed:;", id="group"),
    pytest.param("m@example.com\nBcc: victim@example.com", id="header-injection"),
    pytest.param("m@example.com\r\n", id="trailing-crlf"),
    pytest.param(" m@example.com", id="leading-space"),
    pytest.param("m@exa\tmple.com", id="tab"),
    pytest.param("m@example.com\x00", id="nul"),
    pytest.param("m\ud800@example.com", id="unpaired-surrogate"),
    pytest.param("m@example.com\x1b[2J", id="escape"),
    pytest.param("m\u2028@example.com", id="line-separator"),
    pytest.param("mallory", id="no-at"),
    pytest.param("m@@example.com", id="two-ats"),
    pytest.param("m@", id="no-domain"),
    pytest.param("@example.com", id="no-local-part"),
    pytest.param("m@" + "a" * 63 + ("." + "a" * 63) * 4, id="over-320"),
    pytest.param(42, id="number"),
    pytest.param(["m@example.com"], id="array"),
    pytest.param({"address": "m@example.com"}, id="object"),
]


@pytest.mark.parametrize("claim", BAD_EMAILS)
@pytest.mark.attack("jwt")
async def test_bad_email_claim_is_refused_and_makes_no_account(api, claim):
    message = await refused(api, token(email=claim))

    assert "`email` claim" in message
    assert await no_account_made()


BAD_NAMES = [
    pytest.param("\ud800", id="unpaired-surrogate"),
    pytest.param("Mal\udfffory", id="low-surrogate"),
    pytest.param("Mal\x00lory", id="nul"),
    pytest.param("Mal\nlory", id="newline"),
    pytest.param("Mal\rlory", id="carriage-return"),
    pytest.param("\x1b[31mMallory", id="escape"),
    pytest.param("Mal\x7flory", id="delete"),
    pytest.param("M" * 129, id="over-128"),
    pytest.param(42, id="number"),
    pytest.param(True, id="boolean"),
    pytest.param(["Mallory"], id="array"),
]


@pytest.mark.parametrize("claim", BAD_NAMES)
@pytest.mark.attack("jwt")
async def test_bad_name_claim_is_refused_and_makes_no_account(api, claim):
    message = await refused(api, token(name=claim))

    assert "`name` claim" in message
    assert await no_account_made()


async def test_name_over_the_limit_is_refused_not_cut(api):
    message = await refused(api, token(name="M" * 129))

    assert message == "The token's `name` claim must be at most 128 characters."


@pytest.mark.parametrize("sub", [42, None, ["mallory"], "mallory\n", "mal\x00lory", "\ud800"])
@pytest.mark.attack("jwt")
async def test_bad_sub_claim_is_refused_naming_it(api, sub):
    message = await refused(api, token(sub=sub))

    assert "`sub` claim" in message
    assert await no_account_made()


@pytest.mark.attack("jwt")
async def test_token_without_sub_is_refused_naming_it(api):
    claims = {"iat": int(time.time()), "exp": int(time.time()) + 600}

    message = await refused(api, str(jwt.encode(claims, config.JWT_SECRET, algorithm="HS256")))

    assert "`sub` claim" in message
    assert await no_account_made()


async def test_bad_claim_is_refused_for_an_existing_account_too(api):
    await api.signed_in(f"Bearer {token(name='Mallory')}").execute(VIEWER)

    message = await refused(api, token(name="Mal\x00lory", email="a@example.com, b@example.com"))

    assert "claim" in message
    assert await User.filter(username="mallory").values_list("name", "email") == [("Mallory", "")]


GOOD_EMAILS = [
    "m@example.com",
    "mallory.m+alerts@ml-lab.example.co.uk",
    "m@localhost",
    "o'brien@example.com",
    "m" * 64 + "@" + "a" * 63 + ("." + "a" * 63) * 3,
]


@pytest.mark.parametrize("address", GOOD_EMAILS)
async def test_good_email_claim_is_stored_as_one_address(api, address):
    data = await api.signed_in(f"Bearer {token(email=address)}").execute(VIEWER)

    assert data["viewer"]["email"] == address
    # What the mail of an alert is addressed to is this one address, and nothing else.
    assert email.utils.getaddresses([address]) == [("", address)]


async def test_longest_name_is_accepted_whole_and_surrounding_space_is_dropped(api):
    longest = "Ω" * 128

    data = await api.signed_in(f"Bearer {token(name=f'  {longest} ')}").execute(VIEWER)

    assert data["viewer"]["name"] == longest


@pytest.mark.parametrize("claims", [{}, {"email": None, "name": None}, {"email": "", "name": ""}])
async def test_absent_email_and_name_fill_the_account_as_before(api, claims):
    data = await api.signed_in(f"Bearer {token(**claims)}").execute(VIEWER)

    assert data["viewer"] == {"username": "mallory", "email": "", "name": "mallory"}


@pytest.mark.attack("jwt")
async def test_bad_claim_on_the_websocket_is_closed_with_4401_naming_it(api, server):
    surrogate = "\ud800"
    payload = {"Authorization": f"Bearer {token(name=surrogate)}"}

    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{server.url}/graphql", protocols=(PROTOCOL,)) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": payload})
        message = await ws.receive(timeout=10)

    assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 4401)
    assert "`name` claim" in str(message.extra)
    assert await no_account_made()
