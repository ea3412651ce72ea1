"""Profile photos: uploaded by multipart, re-encoded small and clean, stored by hash."""

from __future__ import annotations

import io
import os

import aiohttp
import pytest
from PIL import Image

import config
from models.user import User
from tests.support.helpers import sign_up

UPLOAD = """
mutation($file: Upload!) {
  uploadProfilePhoto(input: {file: $file}) {
    user { photoUrl }
    errors { field message code }
  }
}
"""
REMOVE = "mutation { removeProfilePhoto(input: {}) { user { photoUrl } errors { code } } }"


def image_bytes(fmt: str, size: tuple[int, int], mode: str = "RGB", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color=(200, 30, 30) if mode == "RGB" else None).save(
        out, format=fmt, **save
    )
    return out.getvalue()


def media_files() -> list[str]:
    return sorted(os.listdir(config.MEDIA_ROOT)) if config.MEDIA_ROOT.exists() else []


async def _upload(api, account, content: bytes, **kwargs):
    status, body = await api.signed_in(account).upload(
        UPLOAD, {"file": None}, "file", content, **kwargs
    )
    assert status == 200, body
    return body["data"]["uploadProfilePhoto"]


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
async def test_photo_is_reencoded_to_at_most_512_pixels(api, fmt, content_type):
    alice = await sign_up("alice")

    payload = await _upload(api, alice, image_bytes(fmt, (2000, 1000)), content_type=content_type)

    assert payload["errors"] == []
    url = payload["user"]["photoUrl"]
    file_name = url.rsplit("/", 1)[1]
    assert url == f"{config.PUBLIC_URL}/media/{file_name}"
    assert media_files() == [file_name]
    with Image.open(config.MEDIA_ROOT / file_name) as stored:
        assert stored.size == (512, 256)
    row = await User.get(id=alice.user.id)
    assert row.photo_file == file_name
    assert row.photo_bytes == (config.MEDIA_ROOT / file_name).stat().st_size


async def test_photo_metadata_is_stripped(api):
    alice = await sign_up("alice")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    original = image_bytes("JPEG", (64, 64), exif=exif.tobytes())
    assert b"SecretCam" in original

    payload = await _upload(api, alice, original, content_type="image/jpeg")

    [file_name] = media_files()
    data = (config.MEDIA_ROOT / file_name).read_bytes()
    assert b"SecretCam" not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert not stored.getexif()
    assert payload["errors"] == []


async def test_photo_is_served_under_media(api, server):
    alice = await sign_up("alice")
    payload = await _upload(api, alice, image_bytes("PNG", (32, 32)))
    path = payload["user"]["photoUrl"].removeprefix(config.PUBLIC_URL)

    async with aiohttp.ClientSession() as http, http.get(server.url + path) as response:
        body = await response.read()

    assert response.status == 200
    assert response.content_type == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(body)).size == (32, 32)


async def test_new_photo_replaces_and_removes_the_old_file(api):
    alice = await sign_up("alice")
    first = await _upload(api, alice, image_bytes("PNG", (32, 32)))

    second = await _upload(api, alice, image_bytes("PNG", (48, 48)))

    assert first["user"]["photoUrl"] != second["user"]["photoUrl"]
    assert media_files() == [second["user"]["photoUrl"].rsplit("/", 1)[1]]


async def test_shared_photo_file_is_kept_while_another_account_uses_it(api):
    alice, bob = await sign_up("alice"), await sign_up("bob")
    same = image_bytes("PNG", (40, 40))
    await _upload(api, alice, same)
    await _upload(api, bob, same)

    await api.signed_in(alice).execute(REMOVE)

    assert len(media_files()) == 1
    assert (await User.get(id=bob.user.id)).photo_file == media_files()[0]


async def test_remove_photo_deletes_the_file(api):
    alice = await sign_up("alice")
    await _upload(api, alice, image_bytes("PNG", (32, 32)))

    data = await api.signed_in(alice).execute(REMOVE)

    assert data["removeProfilePhoto"] == {"user": {"photoUrl": None}, "errors": []}
    assert media_files() == []
    row = await User.get(id=alice.user.id)
    assert (row.photo_file, row.photo_bytes) == (None, 0)


def _truncated_png() -> bytes:
    data = image_bytes("PNG", (300, 300), mode="RGB")
    return data[: len(data) // 2]


def _pixel_bomb() -> bytes:
    # 6000 x 6000 of one colour: a tiny file that would decode to 108 MB.
    return image_bytes("PNG", (6000, 6000))


def _strip() -> bytes:
    # 1 x 25,000,000: within the megapixels, a few hundred megabytes to decode.
    out = io.BytesIO()
    Image.new("1", (25_000_000, 1)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "content_type", "code", "words"),
    [
        (b"just some text, not an image", "image/png", "INVALID", "not a PNG"),
        (b"%PDF-1.4 fake", "application/pdf", "INVALID", "application/pdf"),
        (image_bytes("BMP", (10, 10)), "image/png", "INVALID", "not a PNG"),
        (image_bytes("TIFF", (10, 10)), "application/octet-stream", "INVALID", "not a PNG"),
        (_truncated_png(), "image/png", "INVALID", "damaged"),
        (_pixel_bomb(), "image/png", "LIMIT_EXCEEDED", "25 megapixels"),
        (_strip(), "image/png", "LIMIT_EXCEEDED", "sides must be at most 10,000 pixels"),
        (b"\x89PNG" + os.urandom(5 * 1024 * 1024), "image/png", "LIMIT_EXCEEDED", "5 MB"),
    ],
    ids=["text", "declared-pdf", "bmp", "tiff", "truncated", "pixel-bomb", "strip", "over-5mb"],
)
@pytest.mark.attack("upload")
async def test_bad_upload_is_refused_and_nothing_is_written(
    api, content, content_type, code, words
):
    alice = await sign_up("alice")

    payload = await _upload(api, alice, content, content_type=content_type)

    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("file", code)
    assert words in error["message"]
    assert payload["user"] is None
    assert media_files() == []
    assert (await User.get(id=alice.user.id)).photo_file is None


@pytest.mark.attack("upload")
async def test_body_over_the_upload_limit_is_refused_with_413(api):
    alice = await sign_up("alice")

    status, body = await api.signed_in(alice).upload(
        UPLOAD, {"file": None}, "file", b"x" * (config.MAX_UPLOAD_BYTES + 1)
    )

    assert status == 413
    assert "too large" in body["text"]
    assert media_files() == []


@pytest.mark.parametrize("value", ["", "photo.png", 12])
@pytest.mark.attack("upload")
async def test_upload_without_a_file_is_invalid(api, value):
    # Found by the schema fuzzer: `Upload` takes any JSON value, not only a file.
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(UPLOAD, {"file": value})

    assert data["uploadProfilePhoto"]["errors"] == [
        {
            "field": "file",
            "message": "Send the photo as a file in a multipart request.",
            "code": "INVALID",
        }
    ]
    assert media_files() == []


async def test_anonymous_upload_is_refused(api):
    status, body = await api.upload(UPLOAD, {"file": None}, "file", image_bytes("PNG", (8, 8)))

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert media_files() == []
