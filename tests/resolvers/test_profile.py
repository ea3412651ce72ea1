"""The profile: `viewer`, `user(username)` and `updateUser` with its limits."""

from __future__ import annotations

import pytest

from models.user import User
from tests.support.helpers import sign_up

PROFILE_FIELDS = "username name institution bio location websiteUrl photoUrl"
UPDATE = f"""
mutation($input: UpdateUserInput!) {{
  updateUser(input: $input) {{
    user {{ {PROFILE_FIELDS} hideTeamsFromPublic }}
    errors {{ field message code }}
  }}
}}
"""
PUBLIC_PROFILE = f"query($u: String!) {{ user(username: $u) {{ {PROFILE_FIELDS} }} }}"


async def _row(account) -> dict[str, object]:
    row = await User.get(id=account.user.id)
    return {
        f: getattr(row, f)
        for f in ("name", "institution", "bio", "location", "website_url", "hide_teams_from_public")
    }


async def test_anonymous_viewer_is_null(api):
    assert await api.execute("{ viewer { username } }") == {"viewer": None}


async def test_update_user_saves_every_field(api):
    alice = await sign_up("alice")
    values = {
        "name": "Alice Liddell",
        "institution": "Wonderland University",
        "bio": "Line one\nLine two",
        "location": "Oxford",
        "websiteUrl": "https://alice.example.com/about?x=1",
        "hideTeamsFromPublic": True,
    }

    data = await api.signed_in(alice).execute(UPDATE, {"input": values})

    assert data["updateUser"]["errors"] == []
    assert data["updateUser"]["user"] == {
        "username": "alice",
        "photoUrl": None,
        **values,
    }
    assert await _row(alice) == {
        "name": "Alice Liddell",
        "institution": "Wonderland University",
        "bio": "Line one\nLine two",
        "location": "Oxford",
        "website_url": "https://alice.example.com/about?x=1",
        "hide_teams_from_public": True,
    }


async def test_omitted_and_null_fields_are_left_alone(api):
    alice = await sign_up("alice")
    await api.signed_in(alice).execute(UPDATE, {"input": {"bio": "Hello", "location": "Oxford"}})

    await api.signed_in(alice).execute(UPDATE, {"input": {"bio": None, "name": "Al"}})

    assert await _row(alice) == {
        "name": "Al",
        "institution": None,
        "bio": "Hello",
        "location": "Oxford",
        "website_url": None,
        "hide_teams_from_public": False,
    }


@pytest.mark.parametrize(
    ("field", "attribute"),
    [
        ("institution", "institution"),
        ("bio", "bio"),
        ("location", "location"),
        ("websiteUrl", "website_url"),
    ],
)
async def test_empty_string_clears_an_optional_field(api, field, attribute):
    alice = await sign_up("alice")
    value = "https://a.example.com" if field == "websiteUrl" else "something"
    await api.signed_in(alice).execute(UPDATE, {"input": {field: value}})

    data = await api.signed_in(alice).execute(UPDATE, {"input": {field: ""}})

    assert data["updateUser"]["user"][field] is None
    assert (await _row(alice))[attribute] is None


LIMITS = [
    ("name", 128, False),
    ("institution", 128, False),
    ("location", 128, False),
    ("bio", 2000, True),
]


@pytest.mark.parametrize(("field", "limit", "multiline"), LIMITS)
async def test_text_at_its_limit_is_accepted(api, field, limit, multiline):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(UPDATE, {"input": {field: "é" * limit}})

    assert data["updateUser"]["errors"] == []
    assert data["updateUser"]["user"][field] == "é" * limit


@pytest.mark.parametrize(("field", "limit", "multiline"), LIMITS)
async def test_text_over_its_limit_is_invalid_and_changes_nothing(api, field, limit, multiline):
    alice = await sign_up("alice")
    before = await _row(alice)

    data = await api.signed_in(alice).execute(UPDATE, {"input": {field: "x" * (limit + 1)}})

    [error] = data["updateUser"]["errors"]
    assert (error["field"], error["code"]) == (field, "INVALID")
    assert str(limit) in error["message"]
    assert data["updateUser"]["user"] is None
    assert await _row(alice) == before


@pytest.mark.parametrize("field", ["name", "institution", "location", "bio"])
@pytest.mark.parametrize("control", ["\x00", "\x1b[31m", "\u0007"])
async def test_control_characters_are_invalid(api, field, control):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(UPDATE, {"input": {field: f"a{control}b"}})

    [error] = data["updateUser"]["errors"]
    assert (error["field"], error["code"]) == (field, "INVALID")


async def test_line_breaks_are_only_allowed_in_the_bio(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(UPDATE, {"input": {"name": "a\nb", "bio": "a\nb"}})

    assert [e["field"] for e in data["updateUser"]["errors"]] == ["name"]


async def test_empty_name_is_invalid(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(UPDATE, {"input": {"name": "   "}})

    assert data["updateUser"]["errors"] == [
        {"field": "name", "message": "Name cannot be empty.", "code": "INVALID"}
    ]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com",
        "javascript:alert(1)",
        "example.com",
        "https://",
        "http://exa mple.com",
        "https://example.com/" + "a" * 2030,
    ],
)
async def test_bad_website_url_is_invalid(api, url):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(UPDATE, {"input": {"websiteUrl": url}})

    [error] = data["updateUser"]["errors"]
    assert (error["field"], error["code"]) == ("websiteUrl", "INVALID")
    assert (await _row(alice))["website_url"] is None


async def test_every_bad_field_is_reported_at_once_and_nothing_is_saved(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        UPDATE,
        {"input": {"name": "", "websiteUrl": "nope", "location": "ok", "bio": "x" * 2001}},
    )

    assert sorted(e["field"] for e in data["updateUser"]["errors"]) == [
        "bio",
        "name",
        "websiteUrl",
    ]
    assert (await _row(alice))["location"] is None


async def test_public_profile_shows_public_fields_only(api):
    alice = await sign_up("alice", email="alice@secret.example")
    await api.signed_in(alice).execute(UPDATE, {"input": {"bio": "Hi", "location": "Oxford"}})

    data = await api.execute(PUBLIC_PROFILE, {"u": "ALICE"})

    assert data["user"] == {
        "username": "alice",
        "name": "Alice",
        "institution": None,
        "bio": "Hi",
        "location": "Oxford",
        "websiteUrl": None,
        "photoUrl": None,
    }


@pytest.mark.parametrize(
    "private_field", ["email", "apiKeys { id }", "projectDefaults { privacy }"]
)
async def test_public_profile_has_no_private_fields(api, private_field):
    await sign_up("alice")

    error = await api.error(f'{{ user(username: "alice") {{ {private_field} }} }}')

    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("username", ["nobody", "x" * 500])
async def test_unknown_user_is_null(api, username):
    assert await api.execute(PUBLIC_PROFILE, {"u": username}) == {"user": None}
