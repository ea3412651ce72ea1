"""Profile photos: uploaded by multipart, re-encoded small and clean, stored by hash."""

from __future__ import annotations

import io
import os
import random
import re
import struct
import zlib

import aiohttp
import pytest
from PIL import Image, ImageOps, PngImagePlugin

import config
from errors import DomainError, Invalid, LimitExceeded
from models.user import User
from services import photos
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
    [error] = body["errors"]
    assert "too large" in error["message"]
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


# Re-encoding, called directly: metadata, colour modes, animations, orientation, structure.

MARK = "planted-by-the-test"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: What Pillow reads from a JPEG it wrote itself, none of it the upload's.
JFIF_INFO = {"jfif", "jfif_version", "jfif_unit", "jfif_density"}


def mark(kind: str) -> str:
    return f"{MARK}:{kind}"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(size, depth: int, colour: int, rows: list[bytes], *chunks: bytes) -> bytes:
    """A PNG written byte by byte, for what Pillow does not write (16-bit colour, odd
    transparency): `colour` is the PNG colour type, each row its bytes unfiltered."""
    header = struct.pack(">IIBBBBB", *size, depth, colour, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\0" + row for row in rows))
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + b"".join(chunks)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def png_chunk_types(data: bytes) -> list[bytes]:
    at, kinds = 8, []
    while at < len(data):
        kinds.append(data[at + 4 : at + 8])
        at += 12 + int.from_bytes(data[at : at + 4], "big")
    return kinds


def jpeg_header_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The markers and contents of a JPEG's segments up to its first scan."""
    at, segments = 2, []
    while data[at + 1] != 0xDA:
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        segments.append((data[at + 1], data[at + 4 : at + 2 + length]))
        at += 2 + length
    return segments


def encode(image: Image.Image, fmt: str, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close(pixel, expected, tolerance: int = 3) -> bool:
    return len(pixel) == len(expected) and all(
        abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True)
    )


def planted_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = mark("exif")  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    return exif.tobytes()


def assert_clean(original: bytes, kinds: list[str], data: bytes, extension: str) -> None:
    """Every kind of metadata was in the upload (in its bytes, or compressed where only
    Pillow's reading of it shows it), and none is in the re-encoded photo."""
    with Image.open(io.BytesIO(original)) as upload:
        upload.load()
        seen = repr(upload.info).encode() + original
    assert [kind for kind in kinds if mark(kind).encode() not in seen] == []

    assert MARK.encode() not in data
    photo = decoded(data)
    if extension == "jpg":
        assert photo.format == "JPEG" and set(photo.info) <= JFIF_INFO
        # No COM, and no APPn but the JFIF one Pillow writes.
        markers = [(m, body[:4]) for m, body in jpeg_header_segments(data) if m >= 0xE0]
        assert markers == [(0xE0, b"JFIF")]
    else:
        assert photo.format == "PNG" and photo.info == {}
        assert set(png_chunk_types(data)) == {b"IHDR", b"IDAT", b"IEND"}


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_png_metadata_is_stripped(mode):
    text = PngImagePlugin.PngInfo()
    text.add_text("Title", mark("tEXt"))
    text.add_text("comment", mark("comment"))  # Pillow reads it as a JPEG comment to write
    text.add_text("Description", mark("zTXt"), zip=True)
    text.add_itxt("Author", mark("iTXt"))
    text.add_itxt("XML:com.adobe.xmp", mark("xmp"))
    original = encode(
        Image.new(mode, (64, 48), (200, 30, 30, 128)),
        "PNG",
        pnginfo=text,
        exif=planted_exif(),
        icc_profile=mark("icc").encode(),
    )

    data, extension = photos.reencode(original)

    assert extension == ("png" if mode == "RGBA" else "jpg")
    assert_clean(
        original, ["tEXt", "comment", "zTXt", "iTXt", "xmp", "exif", "icc"], data, extension
    )


def test_jpeg_metadata_is_stripped():
    app3 = mark("app3").encode()
    photoshop = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + mark("app13").encode()
    extra = b"".join(
        marker + struct.pack(">H", len(body) + 2) + body
        for marker, body in [(b"\xff\xe3", app3), (b"\xff\xed", photoshop)]
    )
    original = encode(
        Image.new("RGB", (64, 48), (200, 30, 30)),
        "JPEG",
        exif=planted_exif(),
        icc_profile=mark("icc").encode(),
        comment=mark("comment").encode(),
        xmp=mark("xmp").encode(),
        extra=extra,
    )

    data, extension = photos.reencode(original)

    assert extension == "jpg"
    assert_clean(original, ["exif", "icc", "comment", "xmp", "app3", "app13"], data, extension)


def gif_extension(label: int, payload: bytes) -> bytes:
    blocks = b"".join(
        bytes([len(payload[i : i + 255])]) + payload[i : i + 255]
        for i in range(0, len(payload), 255)
    )
    return b"\x21" + bytes([label]) + blocks + b"\x00"


def gif_with(extensions: bytes, **save: object) -> bytes:
    """A GIF from Pillow with `extensions` before its first image."""
    image = Image.new("P", (64, 48), 1)
    image.putpalette([200, 30, 30, 30, 200, 30, 0, 0, 0, 255, 255, 255])
    data = encode(image, "GIF", **save)
    flags = data[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    return data[:at] + extensions + data[at:]


@pytest.mark.parametrize("transparency", [None, 1])
def test_gif_metadata_is_stripped(transparency):
    apps = gif_extension(0xFF, b"XMP DataXMP" + mark("xmp").encode()) + gif_extension(
        0xFF, b"ICCRGBG1012" + mark("icc").encode()
    )
    save = {} if transparency is None else {"transparency": transparency}
    original = gif_with(apps, comment=mark("comment").encode(), **save)

    data, extension = photos.reencode(original)

    assert extension == ("jpg" if transparency is None else "png")
    assert_clean(original, ["xmp", "icc", "comment"], data, extension)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_webp_metadata_is_stripped(mode):
    original = encode(
        Image.new(mode, (64, 48), (200, 30, 30, 128)),
        "WEBP",
        exif=planted_exif(),
        icc_profile=mark("icc").encode(),
        xmp=mark("xmp").encode(),
    )

    data, extension = photos.reencode(original)

    assert extension == ("png" if mode == "RGBA" else "jpg")
    assert_clean(original, ["exif", "icc", "xmp"], data, extension)


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("1", 1, (255, 255, 255)),
        ("L", 100, (100, 100, 100)),
        ("LA", (100, 50), (100, 100, 100, 50)),
        ("RGBA", (1, 2, 3, 4), (1, 2, 3, 4)),
        ("RGBa", (100, 50, 25, 128), (199, 99, 49, 128)),  # premultiplied, undone
        ("CMYK", (0, 255, 255, 0), (255, 0, 0)),
        ("YCbCr", (128, 128, 128), (128, 128, 128)),
        ("LAB", (128, 128, 128), (119, 119, 119)),  # neutral grey, lightness 50 %
        ("HSV", (0, 255, 255), (255, 0, 0)),
        # 16 and 32 bits, and floats, scaled to 8: 40000 / 256 is 156, not clipped to 255.
        ("I;16", 40000, (156, 156, 156)),
        ("I;16B", 40000, (156, 156, 156)),
        ("I;16L", 40000, (156, 156, 156)),
        ("I", 40000, (156, 156, 156)),
        ("F", 40000.0, (156, 156, 156)),
    ],
)
def test_every_colour_mode_becomes_8_bit_rgb_or_rgba(mode, value, expected):
    image = Image.new(mode, (4, 4), value)

    converted = photos.eight_bit(image)

    assert converted.mode == ("RGBA" if len(expected) == 4 else "RGB")
    assert close(converted.getpixel((0, 0)), expected)


@pytest.mark.parametrize(
    ("fmt", "mode", "value", "expected"),
    [
        ("PNG", "1", 1, (255, 255, 255)),
        ("PNG", "L", 100, (100, 100, 100)),
        ("PNG", "LA", (100, 50), (100, 100, 100, 50)),
        ("PNG", "RGBA", (200, 30, 30, 128), (200, 30, 30, 128)),
        ("JPEG", "L", 100, (100, 100, 100)),
        ("JPEG", "CMYK", (0, 255, 255, 0), (255, 0, 0)),
        ("GIF", "L", 100, (100, 100, 100)),
        ("WEBP", "RGBA", (200, 30, 30, 128), (200, 30, 30, 128)),
    ],
)
def test_a_file_in_each_mode_is_stored_8_bit(fmt, mode, value, expected):
    original = encode(Image.new(mode, (32, 32), value), fmt)

    data, extension = photos.reencode(original)

    photo = decoded(data)
    assert (extension, photo.mode) == (("png", "RGBA") if len(expected) == 4 else ("jpg", "RGB"))
    assert close(photo.getpixel((16, 16)), expected, tolerance=4)


def test_palette_modes_keep_their_transparency():
    keyed = Image.new("P", (2, 1))
    keyed.putpalette([255, 0, 0, 0, 255, 0])
    keyed.putpixel((1, 0), 1)
    keyed.info["transparency"] = 1
    per_entry = keyed.copy()
    per_entry.info["transparency"] = b"\xff\x80"
    with_alpha = Image.new("PA", (1, 1), (1, 128))
    with_alpha.putpalette([10, 20, 30, 40, 50, 60])

    converted = [photos.eight_bit(image) for image in (keyed, per_entry, with_alpha)]

    assert [image.mode for image in converted] == ["RGBA"] * 3
    assert converted[0].get_flattened_data() == ((255, 0, 0, 255), (0, 255, 0, 0))
    assert converted[1].get_flattened_data() == ((255, 0, 0, 255), (0, 255, 0, 128))
    assert converted[2].getpixel((0, 0)) == (40, 50, 60, 128)


def test_a_mode_pillow_cannot_convert_is_invalid():
    with pytest.raises(Invalid) as refused:
        photos.eight_bit(Image.new("La", (4, 4)))

    assert refused.value.field == "file"
    assert "colour mode La" in refused.value.message


def test_16_bit_grey_png_is_scaled_not_clipped():
    grey = Image.new("I;16", (64, 32), 0x4000)
    grey.paste(Image.new("I;16", (32, 32), 0xC000), (32, 0))

    data, extension = photos.reencode(encode(grey, "PNG"))

    photo = decoded(data)
    assert (extension, photo.mode) == ("jpg", "RGB")
    assert close(photo.getpixel((8, 16)), (64, 64, 64))
    assert close(photo.getpixel((56, 16)), (192, 192, 192))


@pytest.mark.parametrize(
    ("colour", "pixel", "extension", "expected"),
    [
        (2, b"\x80\x00\x40\x00\xff\xff", "jpg", (128, 64, 255)),
        (6, b"\x80\x00\x40\x00\xff\xff\x80\x00", "png", (128, 64, 255, 128)),
        (4, b"\x80\x00\x80\x00", "png", (128, 128, 128, 128)),
    ],
    ids=["RGB", "RGBA", "LA"],
)
def test_16_bit_colour_png_becomes_8_bit(colour, pixel, extension, expected):
    original = raw_png((8, 8), 16, colour, [pixel * 8] * 8)

    data, got = photos.reencode(original)

    photo = decoded(data)
    assert got == extension
    assert close(photo.getpixel((4, 4)), expected)


def test_16_bit_grey_with_a_transparent_grey_keeps_it_transparent():
    # Grey 0x8000 is transparent, 0xFFFF is opaque white.
    row = b"\x80\x00" * 4 + b"\xff\xff" * 4
    original = raw_png((8, 8), 16, 0, [row] * 8, png_chunk(b"tRNS", b"\x80\x00"))

    data, extension = photos.reencode(original)

    photo = decoded(data)
    assert (extension, photo.mode) == ("png", "RGBA")
    assert photo.getpixel((1, 1)) == (128, 128, 128, 0)
    assert photo.getpixel((6, 1)) == (255, 255, 255, 255)


PALETTE = b"\xff\x00\x00\x00\xff\x00"  # red, green
ODD_PALETTES = {
    "tRNS-longer-than-PLTE": (
        raw_png(
            (2, 1),
            8,
            3,
            [b"\x00\x01"],
            png_chunk(b"PLTE", PALETTE),
            png_chunk(b"tRNS", b"\x00\x80" + b"\x10" * 254),
        ),
        [(255, 0, 0, 0), (0, 255, 0, 128)],
    ),
    "index-past-PLTE": (
        raw_png(
            (2, 1), 8, 3, [b"\x00\x09"], png_chunk(b"PLTE", PALETTE), png_chunk(b"tRNS", b"\x80")
        ),
        [(255, 0, 0, 128), (0, 0, 0, 255)],
    ),
    "no-PLTE": (raw_png((2, 1), 8, 3, [b"\x00\x01"]), [(0, 0, 0, 255), (0, 0, 0, 255)]),
    "grey-key-past-8-bits": (
        raw_png((2, 1), 8, 0, [b"\x00\x01"], png_chunk(b"tRNS", b"\x01\x2c")),
        [(0, 0, 0, 255), (1, 1, 1, 255)],
    ),
}


@pytest.mark.parametrize("name", ODD_PALETTES)
def test_palette_with_odd_transparency_is_reencoded(name):
    original, expected = ODD_PALETTES[name]

    data, _ = photos.reencode(original)

    photo = decoded(data).convert("RGBA")
    assert [photo.getpixel((x, 0)) for x in range(2)] == expected


def test_gif_transparency_past_its_palette_is_reencoded():
    image = Image.new("P", (8, 8), 0)
    image.putpalette([200, 30, 30, 30, 200, 30])
    original = encode(image, "GIF", transparency=200)

    assert Image.open(io.BytesIO(original)).info["transparency"] == 200

    data, extension = photos.reencode(original)

    assert (extension, decoded(data).getpixel((4, 4))) == ("png", (200, 30, 30, 255))


def animation(fmt: str, frames: int = 6, size: tuple[int, int] = (64, 48)) -> bytes:
    """A red frame, then frames of other colours."""
    colours = [(220, 20, 20)] + [(20, 20 + 200 * (n % 2), 220) for n in range(1, frames)]
    images = [Image.new("RGB", size, colour) for colour in colours]
    if fmt == "GIF":
        images = [image.convert("P") for image in images]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=100, loop=0)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_an_animation_keeps_its_first_frame_only(fmt):
    original = animation(fmt)
    assert getattr(Image.open(io.BytesIO(original)), "n_frames", 1) == 6

    data, extension = photos.reencode(original)

    photo = decoded(data)
    assert getattr(photo, "n_frames", 1) == 1
    assert close(photo.getpixel((32, 24)), (220, 20, 20), tolerance=12)
    assert extension == "jpg"


def quadrants(size: tuple[int, int]) -> Image.Image:
    """Red, green / blue, white: where each corner went shows the turn."""
    width, height = size
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    image.paste((0, 255, 0), (width // 2, 0, width, height // 2))
    image.paste((0, 0, 255), (0, height // 2, width // 2, height))
    return image


def corners(image: Image.Image) -> list[object]:
    width, height = image.size
    points = [(width // 4, height // 4), (3 * width // 4, height // 4)]
    points += [(width // 4, 3 * height // 4), (3 * width // 4, 3 * height // 4)]
    return [image.convert("RGB").getpixel(point) for point in points]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_orientation_is_applied(fmt, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    original = encode(quadrants((1024, 512)), fmt, exif=exif.tobytes())
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(original)))  # Pillow's own turn

    data, _ = photos.reencode(original)

    photo = decoded(data)
    assert photo.size == ((512, 256) if orientation < 5 else (256, 512))
    assert all(
        close(got, want, tolerance=24)
        for got, want in zip(corners(photo), corners(upright), strict=True)
    ), (corners(photo), corners(upright))
    assert photo.getexif().get(0x0112) is None


def raw_exif(kind: int, count: int, value: bytes) -> bytes:
    """EXIF whose only tag is an orientation of any TIFF type, count and value."""
    entry = struct.pack(">HHI", 0x0112, kind, count) + value.ljust(4, b"\0")
    return b"Exif\0\0MM\0*" + struct.pack(">IH", 8, 1) + entry + b"\0\0\0\0"


@pytest.mark.parametrize(
    ("kind", "count", "value"),
    [
        (3, 1, b"\0\0"),
        (3, 1, b"\0\x09"),
        (3, 1, b"\xff\xff"),
        (2, 2, b"6\0"),
        (7, 1, b"\x06"),
        (3, 1000, b"\0\0\0\x08"),
    ],
    ids=["0", "9", "65535", "text", "undefined", "past-the-end"],
)
def test_a_hostile_orientation_leaves_the_picture_as_stored(kind, count, value):
    original = encode(quadrants((64, 32)), "JPEG", exif=raw_exif(kind, count, value))

    data, _ = photos.reencode(original)

    assert decoded(data).size == (64, 32)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_an_unreadable_exif_does_not_refuse_the_picture(fmt):
    original = encode(quadrants((64, 32)), fmt, exif=b"Exif\x00\x00MM\xec*\x00\x00\x00\x08")

    data, _ = photos.reencode(original)

    assert decoded(data).size == (64, 32)


def refused(data: bytes) -> DomainError:
    with pytest.raises(DomainError) as error:
        photos.reencode(data)
    assert error.value.field == "file"
    return error.value


def progressive_jpeg(scans: int, size: tuple[int, int] = (64, 64)) -> bytes:
    """A progressive JPEG whose last scan is repeated until it has `scans` of them."""
    data = encode(Image.new("L", size, 128), "JPEG", progressive=True)
    starts = [m.start() for m in re.finditer(rb"\xff\xda", data)]
    last = data[starts[-1] : len(data) - 2]  # to the EOI
    return data[:-2] + last * (scans - len(starts)) + data[-2:]


def test_jpeg_scans_are_bounded():
    assert len(re.findall(rb"\xff\xda", progressive_jpeg(photos.MAX_JPEG_SCANS))) == 32

    accepted, _ = photos.reencode(progressive_jpeg(photos.MAX_JPEG_SCANS))
    error = refused(progressive_jpeg(photos.MAX_JPEG_SCANS + 1))

    assert decoded(accepted).size == (64, 64)
    assert isinstance(error, LimitExceeded) and "at most 32 JPEG scans" in error.message


def jpeg_with_segments(count: int, segment: bytes = b"\xff\xe5\x00\x02") -> bytes:
    """A JPEG with `count` more `segment`s after its JFIF one."""
    data = encode(Image.new("RGB", (16, 16)), "JPEG")
    at = 4 + int.from_bytes(data[4:6], "big")
    return data[:at] + segment * count + data[at:]


def test_jpeg_segments_are_bounded():
    own = len(jpeg_header_segments(encode(Image.new("RGB", (16, 16)), "JPEG"))) + 1  # and SOS
    accepted, _ = photos.reencode(jpeg_with_segments(photos.MAX_JPEG_SEGMENTS - own))
    error = refused(jpeg_with_segments(photos.MAX_JPEG_SEGMENTS - own + 1))

    assert decoded(accepted).size == (16, 16)
    assert isinstance(error, LimitExceeded) and "at most 256 JPEG segments" in error.message


def test_jpeg_with_more_than_stray_bytes_between_its_segments_is_invalid():
    data, _ = photos.reencode(jpeg_with_segments(1, b"\x00" * 1024))
    error = refused(jpeg_with_segments(1, b"\x00" * 1025))

    assert decoded(data).size == (16, 16)
    assert isinstance(error, Invalid) and "damaged" in error.message


def png_in_chunks(count: int) -> bytes:
    """A 32x32 PNG whose pixels are split over `count` - 2 IDAT chunks."""
    noise = random.Random(1).randbytes(32 * 3)
    pixels = zlib.compress(b"".join(b"\0" + noise for _ in range(32)), 0)
    pieces = count - 2
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0))
    idats = [
        png_chunk(b"IDAT", pixels[i * len(pixels) // pieces : (i + 1) * len(pixels) // pieces])
        for i in range(pieces)
    ]
    return PNG_SIGNATURE + header + b"".join(idats) + png_chunk(b"IEND", b"")


def test_png_chunks_are_bounded():
    big = png_in_chunks(300)  # IHDR, IDAT..., IEND
    filler = png_chunk(b"abCd", b"")
    at_limit = big[:33] + filler * (photos.MAX_PNG_CHUNKS - 299) + big[33:]

    accepted, _ = photos.reencode(at_limit)
    error = refused(at_limit[:33] + filler + at_limit[33:])

    assert len(png_chunk_types(at_limit)) == photos.MAX_PNG_CHUNKS + 1  # and IEND
    assert decoded(accepted).size == (32, 32)
    assert isinstance(error, LimitExceeded) and "at most 10,000 PNG chunks" in error.message


def test_gif_blocks_before_the_first_image_are_bounded():
    def comment(blocks: int) -> bytes:
        return b"\x21\xfe" + b"\x01x" * blocks + b"\x00"

    accepted, _ = photos.reencode(gif_with(comment(photos.MAX_GIF_BLOCKS)))
    error = refused(gif_with(comment(photos.MAX_GIF_BLOCKS + 1)))
    junk = refused(gif_with(b"\x00" * 1000))

    assert decoded(accepted).size == (64, 48)
    assert isinstance(error, LimitExceeded) and "at most 10,000 GIF blocks" in error.message
    assert isinstance(junk, Invalid) and "damaged" in junk.message


def _mutations(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        if len(data) < 2:
            break
        at = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.6:
            data[at] = rng.randrange(256)
        elif roll < 0.75:
            del data[at : at + rng.randint(1, 16)]
        elif roll < 0.9:
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        else:
            del data[max(at, 1) :]
    if data.startswith(PNG_SIGNATURE):  # mend the CRCs, or Pillow reads no further
        at = 8
        while at + 12 + (size := int.from_bytes(data[at : at + 4], "big")) <= len(data):
            data[at + 8 + size : at + 12 + size] = struct.pack(
                ">I", zlib.crc32(data[at + 4 : at + 8 + size])
            )
            at += 12 + size
    return bytes(data)


def test_mutated_images_are_reencoded_or_refused_cleanly():
    exif = Image.Exif()
    exif[0x0112] = 6
    noise = Image.frombytes("L", (24, 16), random.Random(2).randbytes(24 * 16))
    seeds = [
        encode(noise.convert("RGBA"), "PNG", exif=exif.tobytes()),
        encode(noise.convert("P"), "PNG", transparency=3),
        encode(noise.convert("I;16"), "PNG"),
        encode(noise.convert("RGB"), "JPEG", exif=exif.tobytes(), comment=b"c"),
        encode(noise.convert("CMYK"), "JPEG", progressive=True),
        encode(noise.convert("P"), "GIF", transparency=2, comment=b"c"),
        encode(noise.convert("RGBA"), "WEBP", exif=exif.tobytes()),
        animation("GIF"),
        animation("WEBP"),
        animation("PNG"),
    ]
    rng = random.Random(20260101)
    outcomes: dict[str, int] = {}

    for seed in seeds:
        for _ in range(150):
            try:
                data, _ = photos.reencode(_mutations(rng, seed))
            except DomainError as error:
                assert error.field == "file"
                outcomes[error.code.value] = outcomes.get(error.code.value, 0) + 1
            else:
                photo = decoded(data)
                assert photo.format in ("JPEG", "PNG") and photo.mode in ("RGB", "RGBA")
                assert max(photo.size) <= 512
                outcomes["reencoded"] = outcomes.get("reencoded", 0) + 1

    # Enough of each outcome that the mutations exercised both paths.
    assert min(outcomes.get(k, 0) for k in ("reencoded", "INVALID")) > 100, outcomes
