"""Bearer tokens: every kind of bad token is refused with UNAUTHENTICATED and
creates no account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

import config
from auth.tokens import issue_token
from models.entity import Entity
from models.user import User

VIEWER = "{ viewer { username email name } }"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict[str, object], alg: str = "none") -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "mallory", "iat": now, "exp": now + 600, **extra}


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


async def _refused(api, token: str) -> str:
    status, body = await api.signed_in(f"Bearer {token}").post(VIEWER)
    assert status == 401
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert not await Entity.filter(name_key="mallory").exists()
    return str(error["message"])


async def test_valid_token_creates_the_account_from_its_claims(api):
    token = jwt.encode(
        _claims(email="m@example.com", name="Mallory M"), config.JWT_SECRET, algorithm="HS256"
    )

    data = await api.signed_in(f"Bearer {token}").execute(VIEWER)

    assert data == {
        "viewer": {"username": "mallory", "email": "m@example.com", "name": "Mallory M"}
    }
    assert await User.filter(username="mallory").count() == 1


@pytest.mark.attack("jwt")
async def test_expired_token_is_refused(api):
    token = jwt.encode(_claims(exp=int(time.time()) - 3600), config.JWT_SECRET, algorithm="HS256")

    assert "expired" in await _refused(api, token)


@pytest.mark.attack("jwt")
async def test_token_without_exp_is_refused(api):
    claims = _claims()
    del claims["exp"]

    await _refused(api, jwt.encode(claims, config.JWT_SECRET, algorithm="HS256"))


@pytest.mark.attack("jwt")
async def test_forged_signature_is_refused(api):
    header, payload, _ = jwt.encode(_claims(), config.JWT_SECRET, algorithm="HS256").split(".")
    forged_payload = _b64(json.dumps(_claims(sub="mallory", admin=True)).encode())

    assert "signature" in await _refused(api, f"{header}.{forged_payload}.{_}")


@pytest.mark.attack("jwt")
async def test_token_signed_with_another_key_is_refused(api):
    await _refused(api, jwt.encode(_claims(), "another-secret-entirely-xxxxxxx", algorithm="HS256"))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
@pytest.mark.attack("jwt")
async def test_alg_none_is_refused(api, alg):
    assert "not accepted" in await _refused(api, _unsigned(_claims(), alg))


@pytest.mark.attack("jwt")
async def test_stripped_signature_is_refused(api):
    token = jwt.encode(_claims(), config.JWT_SECRET, algorithm="HS256")

    await _refused(api, token.rsplit(".", 1)[0] + ".")


@pytest.mark.attack("jwt")
async def test_algorithm_the_server_does_not_accept_is_refused(api):
    token = jwt.encode(_claims(), config.JWT_SECRET, algorithm="HS512")

    assert "HS512" in await _refused(api, token)


@pytest.mark.attack("jwt")
async def test_far_future_iat_is_refused(api):
    token = jwt.encode(
        _claims(iat=int(time.time()) + 365 * 24 * 3600), config.JWT_SECRET, algorithm="HS256"
    )

    assert "future" in await _refused(api, token)


@pytest.mark.attack("jwt")
async def test_huge_token_is_refused(api):
    token = jwt.encode(_claims(padding="x" * 20_000), config.JWT_SECRET, algorithm="HS256")

    assert "too large" in await _refused(api, token)


@pytest.mark.parametrize("sub", ["", "has space", "a" * 65, "../etc", "名前"])
@pytest.mark.attack("jwt")
async def test_invalid_subject_is_refused(api, sub):
    await _refused(api, jwt.encode(_claims(sub=sub), config.JWT_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("value", ["Bearer", "Token abc", "Bearer not.a.jwt", "Bearer !!!"])
@pytest.mark.attack("jwt")
async def test_malformed_authorization_is_refused(api, value):
    status, body = await api.signed_in(value).post(VIEWER)

    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


class TestIssuerAndAudience:
    @pytest.fixture(autouse=True)
    def _configured(self, monkeypatch):
        monkeypatch.setattr(config, "JWT_ISSUER", "https://id.example.com/")
        monkeypatch.setattr(config, "JWT_AUDIENCE", "switchboard")

    async def test_matching_issuer_and_audience_are_accepted(self, api):
        token = jwt.encode(
            _claims(iss="https://id.example.com/", aud="switchboard"),
            config.JWT_SECRET,
            algorithm="HS256",
        )

        assert await api.signed_in(f"Bearer {token}").execute("{ viewer { username } }")

    @pytest.mark.parametrize(
        "claims",
        [
            {"iss": "https://evil.example.com/", "aud": "switchboard"},
            {"iss": "https://id.example.com/", "aud": "another-service"},
            {"aud": "switchboard"},
            {"iss": "https://id.example.com/"},
        ],
    )
    @pytest.mark.attack("jwt")
    async def test_wrong_or_missing_issuer_or_audience_is_refused(self, api, claims):
        await _refused(api, jwt.encode(_claims(**claims), config.JWT_SECRET, algorithm="HS256"))


class TestRS256:
    @pytest.fixture
    def keys(self, monkeypatch):
        private, public = _rsa_pair()
        monkeypatch.setattr(config, "JWT_ALGORITHMS", ["RS256", "HS256"])
        monkeypatch.setattr(config, "JWT_PUBLIC_KEY", public)
        return private, public

    async def test_rs256_token_is_accepted_with_the_public_key(self, api, keys):
        private, _ = keys
        token = jwt.encode(_claims(), private, algorithm="RS256")

        data = await api.signed_in(f"Bearer {token}").execute("{ viewer { username } }")

        assert data == {"viewer": {"username": "mallory"}}

    @pytest.mark.attack("jwt")
    async def test_public_key_used_as_hmac_secret_is_refused(self, api, keys):
        # The HS/RS confusion attack: HS256 signed with the (public) RSA key.
        _, public = keys
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(_claims()).encode())
        signature = hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
        token = f"{header}.{payload}.{_b64(signature.digest())}"

        await _refused(api, token)

    @pytest.mark.attack("jwt")
    async def test_rs256_token_signed_with_another_key_is_refused(self, api, keys):
        other_private, _ = _rsa_pair()

        await _refused(api, jwt.encode(_claims(), other_private, algorithm="RS256"))


@pytest.mark.attack("jwt")
async def test_token_issued_before_account_deletion_is_refused(api):
    token = issue_token("mallory")
    await api.signed_in(f"Bearer {token}").execute("{ viewer { username } }")
    await User.filter(username="mallory").delete()
    await Entity.filter(name_key="mallory").update(deleted_at=datetime.now(UTC))

    status, body = await api.signed_in(f"Bearer {token}").post(VIEWER)

    assert status == 401
    assert "deleted" in body["errors"][0]["message"]
    assert not await User.filter(username="mallory").exists()


@pytest.mark.attack("jwt")
async def test_token_for_a_team_name_creates_no_account(api):
    await Entity.create(name="mallory", name_key="mallory", is_team=True)

    status, body = await api.signed_in(f"Bearer {issue_token('mallory')}").post(VIEWER)

    assert status == 401
    assert "team" in body["errors"][0]["message"]
    assert not await User.filter(username="mallory").exists()
