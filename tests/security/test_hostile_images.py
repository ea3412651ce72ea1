"""Hostile images sent to the running server as profile photos (services/photos.py).

A refused one is LIMIT_EXCEEDED or INVALID on `file`, writes nothing (no file under
MEDIA_ROOT, every table as it was), and costs little CPU: `time.process_time` counts the
server's threads too, since it runs in this process. An accepted one is stored as a
clean 8-bit picture of at most 512 pixels, its first frame only, without the upload's
metadata. Before services/photos.py bounded the structure, the first six bombs below were
accepted (one with an internal error) after 0.6 to 4.6 s of CPU each.
"""

from __future__ import annotations

import functools
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

import config
from models.user import User
from tests.services.test_photos import (
    MARK,
    PNG_SIGNATURE,
    UPLOAD,
    animation,
    decoded,
    encode,
    gif_with,
    mark,
    media_files,
    planted_exif,
    png_chunk,
    progressive_jpeg,
    raw_png,
)
from tests.support.helpers import UNLIMITED, set_rate_limits, sign_up
from tests.support.rows import snapshot

#: CPU (server and client) one upload may cost; an honest 25-megapixel photo takes 0.8 s.
MAX_CPU_SECONDS = 0.5
NEAR_5_MB = config.MAX_PHOTO_BYTES - 4096


def _jpeg() -> bytes:
    return encode(Image.new("RGB", (16, 16), (200, 30, 30)), "JPEG")


def _flood(head: bytes, piece: bytes, tail: bytes, size: int = NEAR_5_MB) -> bytes:
    return head + piece * ((size - len(head) - len(tail)) // len(piece)) + tail


def _exif_segments() -> bytes:
    # Pillow joins EXIF segments by `+=`: quadratic, 12 s of CPU for 5 MB of them.
    segment = b"\xff\xe1\x00\x12Exif\x00\x00" + b"x" * 10
    return _flood(_jpeg()[:2], segment, _jpeg()[2:], size=2_500_000)


def _png_chunks() -> bytes:
    png = encode(Image.new("RGB", (16, 16)), "PNG")
    return _flood(png[:33], png_chunk(b"abCd", b""), png[33:])


def _gif_sub_blocks() -> bytes:
    blocks = b"\x01x" * (NEAR_5_MB // 2 - 1000)
    return gif_with(b"\x21\xfe" + blocks + b"\x00")


def _ztxt_bombs() -> bytes:
    bomb = png_chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"\x00" * 1_000_000, 9))
    png = encode(Image.new("RGB", (16, 16)), "PNG")
    return _flood(png[:33], bomb, png[33:])


def _iccp_bomb() -> bytes:
    profile = png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 20_000_000, 9))
    png = encode(Image.new("RGB", (16, 16)), "PNG")
    return png[:33] + profile + png[33:]


def _webp_canvas() -> bytes:
    # A VP8X header claiming 16384 x 16384, in front of a 16 x 16 picture.
    small = encode(Image.new("RGB", (16, 16)), "WEBP")
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (16383).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + small[12:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _gif_blocks(gif: bytes) -> list[tuple[int, int]]:
    """Where each block after a GIF's palette starts and ends: extensions and images."""
    flags = gif[10]
    at, blocks = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0), []
    while gif[at] != 0x3B:
        start = at
        if gif[at] == 0x2C:  # descriptor, its palette, the LZW code size, then data
            flags = gif[at + 9]
            at += 11 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        else:  # introducer and label, then data
            at += 2
        while gif[at]:
            at += 1 + gif[at]
        blocks.append((start, at + 1))
        at += 1
    return blocks


def _gif_frame_past_its_screen() -> bytes:
    # A 64 x 48 screen whose first frame says it is 9000 x 9000.
    gif = bytearray(gif_with(b""))
    [image] = [start for start, _ in _gif_blocks(bytes(gif)) if gif[start] == 0x2C]
    gif[image + 5 : image + 9] = struct.pack("<HH", 9000, 9000)
    return bytes(gif)


#: name: (builder, code, words of the message)
REFUSED: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "jpeg-1000-scans": (
        lambda: progressive_jpeg(1000, (2000, 2000)),
        "LIMIT_EXCEEDED",
        "at most 32 JPEG scans",
    ),
    "jpeg-140k-exif-segments": (_exif_segments, "LIMIT_EXCEEDED", "256 JPEG segments"),
    "jpeg-5-mb-junk-in-its-header": (
        lambda: _flood(_jpeg()[:20], b"\x00", _jpeg()[20:]),  # after SOI and JFIF
        "INVALID",
        "damaged",
    ),
    "png-400k-empty-chunks": (_png_chunks, "LIMIT_EXCEEDED", "10,000 PNG chunks"),
    "gif-2.6m-sub-blocks": (_gif_sub_blocks, "LIMIT_EXCEEDED", "10,000 GIF blocks"),
    "gif-5-mb-junk-before-its-image": (
        lambda: gif_with(b"\x00" * NEAR_5_MB),
        "INVALID",
        "damaged",
    ),
    "png-zTXt-bombs": (_ztxt_bombs, "INVALID", "damaged"),
    "png-iCCP-bomb": (_iccp_bomb, "INVALID", "damaged"),
    "png-16-bit-36-megapixels": (
        lambda: encode(Image.new("I;16", (6000, 6000)), "PNG"),
        "LIMIT_EXCEEDED",
        "25 megapixels",
    ),
    "gif-frame-past-its-screen": (_gif_frame_past_its_screen, "LIMIT_EXCEEDED", "25 megapixels"),
    "webp-268-megapixel-canvas": (_webp_canvas, "LIMIT_EXCEEDED", "25 megapixels"),
}


@functools.cache
def _built(name: str) -> bytes:
    data = REFUSED[name][0]() if name in REFUSED else ACCEPTED[name][0]()
    assert len(data) <= config.MAX_PHOTO_BYTES, (name, len(data))
    return data


async def _timed_upload(api, account, content: bytes) -> tuple[dict[str, Any], float]:
    started = time.process_time()
    status, body = await api.signed_in(account).upload(
        UPLOAD, {"file": None}, "file", content, content_type="application/octet-stream"
    )
    cpu = time.process_time() - started
    assert status == 200, body
    return body["data"]["uploadProfilePhoto"], cpu


@pytest.mark.attack("upload")
async def test_image_bombs_are_refused_cheaply_and_write_nothing(api, monkeypatch, count_as):
    # Every bomb must reach the decoder, not stop at the uploads' rate limit.
    set_rate_limits(monkeypatch, UNLIMITED)
    mallory = await sign_up("mallory")
    before = await snapshot()
    costs = {}

    for name, (_, code, words) in REFUSED.items():
        payload, costs[name] = await _timed_upload(api, mallory, _built(name))

        [error] = payload["errors"]
        assert (error["field"], error["code"]) == ("file", code), (name, error)
        assert words in error["message"], (name, error)
        assert payload["user"] is None
        assert media_files() == [], name
        assert await snapshot() == before, name

    count_as("attacks", len(REFUSED))
    worst = max(costs, key=costs.__getitem__)
    print(f"\nimage bombs: worst {worst}, {costs[worst] * 1000:.0f} ms of CPU")
    assert {n: c for n, c in costs.items() if c > MAX_CPU_SECONDS} == {}


def _apng(frames: int, size: tuple[int, int]) -> bytes:
    """An APNG of `frames` frames of `size`, all red: a decoder that went through them
    all would inflate frames x size pixels."""
    width, height = size
    red = zlib.compress(b"".join(b"\x00" + b"\xdc\x14\x14" * width for _ in range(height)), 9)

    def control(sequence: int) -> bytes:
        return png_chunk(b"fcTL", struct.pack(">5I2H2B", sequence, *size, 0, 0, 1, 10, 0, 0))

    chunks = [png_chunk(b"acTL", struct.pack(">II", frames, 0)), control(0)]
    chunks.append(png_chunk(b"IDAT", red))
    for frame in range(1, frames):
        chunks.append(control(2 * frame - 1))
        chunks.append(png_chunk(b"fdAT", struct.pack(">I", 2 * frame) + red))
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", *size, 8, 2, 0, 0, 0))
    return PNG_SIGNATURE + header + b"".join(chunks) + png_chunk(b"IEND", b"")


def _gif_frames(frames: int) -> bytes:
    """Pillow's two frames of 1000 x 1000, the second repeated: each one to decode."""
    gif = animation("GIF", 2, (1000, 1000))
    blocks = _gif_blocks(gif)
    images = [n for n, (start, _) in enumerate(blocks) if gif[start] == 0x2C]
    second = blocks[images[0] + 1][0]  # the second frame's control extension
    return gif[:second] + gif[second : blocks[images[1]][1]] * (frames - 1) + b";"


def _phone_photo() -> bytes:
    exif = Image.Exif()
    exif.load(planted_exif())
    exif[0x0112] = 6  # held upright: turned a quarter clockwise
    picture = Image.new("RGB", (1600, 1200), (220, 20, 20))
    return encode(picture, "JPEG", exif=exif, comment=mark("comment").encode())


#: name: (builder, extension stored, size stored)
ACCEPTED: dict[str, tuple[Callable[[], bytes], str, tuple[int, int]]] = {
    "apng-300-frames-of-4-megapixels": (lambda: _apng(300, (2000, 2000)), "jpg", (512, 512)),
    "gif-30-frames-of-1-megapixel": (lambda: _gif_frames(30), "jpg", (512, 512)),
    "webp-50-frames": (lambda: animation("WEBP", 50, (1000, 1000)), "jpg", (512, 512)),
    "png-16-bit-grey": (
        lambda: encode(Image.new("I;16", (600, 300), 0x8000), "PNG"),
        "jpg",
        (512, 256),
    ),
    "png-16-bit-rgba": (
        lambda: raw_png((64, 64), 16, 6, [b"\x80\x00\x40\x00\xff\xff\x80\x00" * 64] * 64),
        "png",
        (64, 64),
    ),
    "jpeg-cmyk": (
        lambda: encode(Image.new("CMYK", (800, 800), (0, 255, 255, 0)), "JPEG"),
        "jpg",
        (512, 512),
    ),
    "jpeg-phone-photo-with-gps-and-comment": (_phone_photo, "jpg", (384, 512)),
}


@pytest.mark.attack("upload")
async def test_odd_and_animated_images_are_stored_clean_8_bit_and_first_frame_only(
    api, monkeypatch, count_as
):
    set_rate_limits(monkeypatch, UNLIMITED)
    alice = await sign_up("alice")
    costs = {}

    for name, (_, extension, size) in ACCEPTED.items():
        payload, costs[name] = await _timed_upload(api, alice, _built(name))

        assert payload["errors"] == [], (name, payload)
        [stored] = media_files()
        assert stored.endswith(f".{extension}"), name
        data = (config.MEDIA_ROOT / stored).read_bytes()
        photo = decoded(data)
        assert (photo.mode, photo.size) == ("RGBA" if extension == "png" else "RGB", size), name
        assert getattr(photo, "n_frames", 1) == 1, name
        assert MARK.encode() not in data and not photo.getexif(), name
        assert (await User.get(id=alice.user.id)).photo_file == stored, name

    count_as("attacks", len(ACCEPTED))
    worst = max(costs, key=costs.__getitem__)
    print(f"\nodd images: worst {worst}, {costs[worst] * 1000:.0f} ms of CPU")
    assert {n: c for n, c in costs.items() if c > MAX_CPU_SECONDS} == {}
