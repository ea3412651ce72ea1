"""Profile photos: decoded with Pillow, re-encoded small and clean, stored by content hash.

Re-encoding is the security boundary: whatever the upload carried besides its
pixels (metadata, a script appended to a polyglot file) is not in what we serve.
What decoding may cost is bounded before it starts, from the header's size and the
file's structure: no hostile upload tried costs more CPU than an honest 25-megapixel
photo, under a second (tests/security/test_hostile_images.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import struct
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageMath, UnidentifiedImageError
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

import config
from errors import Invalid, LimitExceeded

FIELD = "file"
ACCEPTED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
ACCEPTED_CONTENT_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/octet-stream",
}
MAX_PIXELS = 25_000_000
#: Neither side may be longer: a 1 x 25,000,000 strip is within the pixels, and
#: no photo.
MAX_IMAGE_SIDE = 10_000
MAX_SIDE = 512
#: Bounds on a file's structure, far above what cameras and editors write (`_check_structure`):
#: past them a 5 MB file costs seconds of CPU, most of it in Python, before any pixel.
MAX_PNG_CHUNKS = 10_000
MAX_JPEG_SEGMENTS = 256
#: Sub-blocks of the extensions before a GIF's first image (comments, XMP, an ICC profile).
MAX_GIF_BLOCKS = 10_000
#: Each scan of a progressive JPEG is decoded over the whole image (25 ms at 25 megapixels);
#: encoders write about 10, libjpeg's own progression at most 18 (CMYK).
MAX_JPEG_SCANS = 32
#: Photos decoded at once by the process: each may take a hundred megabytes.
DECODES_AT_ONCE = 2


@dataclass(frozen=True)
class StoredPhoto:
    file_name: str
    size_bytes: int


def check_content_type(content_type: str | None) -> None:
    declared = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if declared not in ACCEPTED_CONTENT_TYPES:
        raise Invalid(
            f"A profile photo must be a PNG, JPEG, GIF or WebP image, not {declared}.",
            field=FIELD,
        )


_decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)
#: What Pillow raises on a file it cannot decode: the exceptions its own fuzz tests accept
#: (Tests/oss-fuzz/test_fuzzers.py), EOFError of a truncated frame, and struct's of a short field.
_DAMAGED = (
    OSError,
    SyntaxError,
    ValueError,
    NotImplementedError,
    OverflowError,
    EOFError,
    struct.error,
)
#: What turns a picture upright, by its EXIF orientation.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = ("LA", "La", "PA", "RGBA", "RGBa")
#: A JPEG marker: 0xFF then a code; not 0xFF00 (a stuffed byte of a scan) nor RSTn.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


async def reencoded(data: bytes) -> tuple[bytes, str]:
    """`reencode` in a thread, at most `DECODES_AT_ONCE` of them decoding at a time."""
    return await asyncio.to_thread(reencode, data)


def reencode(data: bytes) -> tuple[bytes, str]:
    """The photo as at most 512x512 pixels of 8-bit RGB (JPEG) or RGBA (PNG), upright,
    its first frame only, without metadata; and its file extension. Raises `Invalid` or
    `LimitExceeded` on "file", and nothing else, whatever the bytes."""
    with _decoding:
        return _reencode(data)


def _reencode(data: bytes) -> tuple[bytes, str]:
    if len(data) > config.MAX_PHOTO_BYTES:
        raise LimitExceeded("A profile photo must be at most 5 MB.", field=FIELD)
    try:
        with warnings.catch_warnings():
            # Pillow warns of what it skips in a hostile file (a corrupt EXIF tag, a bad
            # APNG): only the pixels are kept, so that is no failure. A bomb is one.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            _check_structure(data)
            image = Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS))
            # The header's size is checked before any pixel is decoded (pixel bombs).
            if image.width * image.height > MAX_PIXELS:
                raise LimitExceeded("A profile photo must be at most 25 megapixels.", field=FIELD)
            if max(image.width, image.height) > MAX_IMAGE_SIDE:
                raise LimitExceeded(
                    f"A profile photo's sides must be at most {MAX_IMAGE_SIDE:,} pixels.",
                    field=FIELD,
                )
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a JPEG decodes at the scale it needs
            image.load()  # the first frame only, of an animation
            upright = _upright(image)
            photo = eight_bit(image)
            photo.thumbnail((MAX_SIDE, MAX_SIDE))
            return _encoded(photo.transpose(upright) if upright is not None else photo)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LimitExceeded("A profile photo must be at most 25 megapixels.", field=FIELD) from None
    except MemoryError:
        raise LimitExceeded("The image is too large to decode.", field=FIELD) from None
    except UnidentifiedImageError:
        raise Invalid("The file is not a PNG, JPEG, GIF or WebP image.", field=FIELD) from None
    except _DAMAGED:
        raise Invalid("The image is damaged or truncated.", field=FIELD) from None


def eight_bit(image: Image.Image) -> Image.Image:
    """The picture in 8-bit RGB, or RGBA if it has any transparency."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        image = _from_16_bits(image)
    # Not Pillow's `has_transparency_data`, which fails on a PNG palette image without a palette.
    palette = image.palette.mode if image.palette else ""
    alpha = image.mode in _ALPHA_MODES or "transparency" in image.info or palette.endswith("A")
    try:
        return image.convert("RGBA" if alpha else "RGB")
    except ValueError:  # a mode no decoder of ours gives, e.g. premultiplied "La"
        raise Invalid(
            f"Images in colour mode {image.mode} are not supported.", field=FIELD
        ) from None


def _upright(image: Image.Image) -> Image.Transpose | None:
    # Not ImageOps.exif_transpose, which also rewrites the EXIF and fails on a hostile
    # one; and the picture is turned once it is small.
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except (SyntaxError, struct.error, OSError, ValueError):
        return None  # an unreadable EXIF (what Pillow's JPEG plugin catches): as stored
    return _UPRIGHT.get(orientation)


def _from_16_bits(image: Image.Image) -> Image.Image:
    # Pillow's `convert` clips samples over 255 rather than scaling them (a 16-bit grey
    # comes out white) and ignores a 16-bit transparent grey: both are done here.
    wide = image.convert("I")
    grey = wide.point(lambda v: v / 256).convert("L")
    grey.info = {}  # a transparent grey is 16-bit: it becomes an alpha channel below
    key = image.info.get("transparency")
    if not isinstance(key, int):
        return grey
    alpha = ImageMath.lambda_eval(lambda a: (a["i"] != key) * 255, i=wide).convert("L")
    return Image.merge("LA", (grey, alpha))


def _encoded(photo: Image.Image) -> tuple[bytes, str]:
    # Pillow's encoders take some metadata from `info` unasked (a JPEG comment, a PNG's
    # ICC profile): none of the upload's may go out, so none is left to take.
    photo.info = {}
    out = io.BytesIO()
    if photo.mode == "RGBA":
        photo.save(out, format="PNG", optimize=True)
        return out.getvalue(), "png"
    photo.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), "jpg"


def _check_structure(data: bytes) -> None:
    """Bounds what the file's structure costs before Pillow reads it: Pillow parses a
    PNG's chunks, a JPEG's header segments and the blocks before a GIF's first image in
    Python, one by one, and libjpeg decodes every scan of a progressive JPEG over the
    whole image (libjpeg-turbo's LJT-01-003)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_png(data)
    elif data.startswith(b"\xff\xd8"):
        _check_jpeg(data)
    elif data.startswith(b"GIF"):
        _check_gif(data)


def _check_png(data: bytes) -> None:
    at, chunks = 8, 0
    while at < len(data) and data[at + 4 : at + 8] != b"IEND":
        at += 12 + int.from_bytes(data[at : at + 4], "big")
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise LimitExceeded(_too_many("PNG chunks", MAX_PNG_CHUNKS), field=FIELD)


def _check_jpeg(data: bytes) -> None:
    at, segments, scans = 2, 0, 0
    while (marker := _JPEG_MARKER.search(data, at)) and marker[0] != b"\xff\xd9":
        start = marker.start()
        if not scans and start - at > 1024:
            # Junk between header segments, which Pillow steps over a byte at a time (the
            # few stray bytes some writers leave are let through).
            raise Invalid("The image is damaged or truncated.", field=FIELD)
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise LimitExceeded(_too_many("JPEG segments", MAX_JPEG_SEGMENTS), field=FIELD)
        scans += marker[0] == b"\xff\xda"
        if scans > MAX_JPEG_SCANS:
            raise LimitExceeded(_too_many("JPEG scans", MAX_JPEG_SCANS), field=FIELD)
        # A segment's length follows its marker; a scan's data runs to the next marker.
        at = start + 2 + int.from_bytes(data[start + 2 : start + 4], "big")


def _check_gif(data: bytes) -> None:
    flags = data[10] if len(data) > 10 else 0
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # past the global palette
    blocks = 0
    while data[at : at + 1] == b"!":  # an extension: its label, then sized sub-blocks
        at += 2
        while data[at : at + 1] not in (b"\0", b""):
            at += 1 + data[at]
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                raise LimitExceeded(_too_many("GIF blocks", MAX_GIF_BLOCKS), field=FIELD)
        at += 1
    if data[at : at + 1] != b",":
        # Junk before the first image, which Pillow would step over a byte at a time.
        raise Invalid("The image is damaged or truncated.", field=FIELD)


def _too_many(what: str, limit: int) -> str:
    return f"A profile photo may have at most {limit:,} {what}."


def store(data: bytes, extension: str) -> StoredPhoto:
    """Write the photo under MEDIA_ROOT by its content hash; atomic, so readers never
    see half a file."""
    file_name = f"{hashlib.sha256(data).hexdigest()[:40]}.{extension}"
    root = Path(config.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    target = root / file_name
    if not target.exists():
        fd, temp = tempfile.mkstemp(dir=root, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    return StoredPhoto(file_name=file_name, size_bytes=len(data))


def remove(file_name: str) -> None:
    (Path(config.MEDIA_ROOT) / file_name).unlink(missing_ok=True)


class MediaFiles(StaticFiles):
    """The stored photos, served as what they are: a browser never sniffs another type."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
