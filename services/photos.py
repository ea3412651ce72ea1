"""Profile photos: decoded with Pillow, re-encoded small and clean, stored by content hash.

Re-encoding is the security boundary: whatever the upload carried besides its
pixels (metadata, a script appended to a polyglot file) is not in what we serve.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
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


async def reencoded(data: bytes) -> tuple[bytes, str]:
    """`reencode` in a thread, at most `DECODES_AT_ONCE` of them decoding at a time."""
    return await asyncio.to_thread(reencode, data)


def reencode(data: bytes) -> tuple[bytes, str]:
    """The photo as at most 512x512 pixels without metadata, and its file extension."""
    with _decoding:
        return _reencode(data)


def _reencode(data: bytes) -> tuple[bytes, str]:
    if len(data) > config.MAX_PHOTO_BYTES:
        raise LimitExceeded("A profile photo must be at most 5 MB.", field=FIELD)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
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
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LimitExceeded("A profile photo must be at most 25 megapixels.", field=FIELD) from None
    except UnidentifiedImageError:
        raise Invalid("The file is not a PNG, JPEG, GIF or WebP image.", field=FIELD) from None
    except (OSError, SyntaxError, ValueError):
        raise Invalid("The image is damaged or truncated.", field=FIELD) from None
    photo: Image.Image = ImageOps.exif_transpose(image) or image
    photo.thumbnail((MAX_SIDE, MAX_SIDE))
    has_alpha = photo.mode in ("RGBA", "LA", "PA") or "transparency" in photo.info
    out = io.BytesIO()
    if has_alpha:
        photo.convert("RGBA").save(out, format="PNG", optimize=True)
        return out.getvalue(), "png"
    photo.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), "jpg"


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
