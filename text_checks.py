"""What text from outside must be before anything keeps it: the checks of mutations'
inputs and of tokens' claims alike. Importable by every layer, as `errors` is."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from errors import Invalid

_LINE_BREAKS = {"\n", "\r", "\t"}
#: Text no database here can hold: PostgreSQL refuses NUL even in a WHERE clause,
#: and an unpaired surrogate (what a JSON "\\ud800" escape decodes to) is not UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: str) -> bool:
    return _UNSTORABLE.search(value) is not None


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    allowed = _LINE_BREAKS if multiline else set()
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in value)


def text(
    value: str,
    *,
    field: str,
    label: str,
    max_length: int,
    min_length: int = 0,
    multiline: bool = False,
) -> str:
    """`value` stripped of surrounding space, or `Invalid` naming `field`."""
    value = value.strip()
    if len(value) < min_length:
        if min_length == 1:
            raise Invalid(f"{label} cannot be empty.", field=field)
        raise Invalid(f"{label} must be at least {min_length} characters.", field=field)
    if len(value) > max_length:
        raise Invalid(f"{label} must be at most {max_length} characters.", field=field)
    if has_control_characters(value, multiline=multiline):
        raise Invalid(f"{label} cannot contain control characters.", field=field)
    return value


#: One address, as HTML's `<input type=email>` accepts it: no display name, no list,
#: no space; the domain made of dot-separated labels.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
EMAIL_LENGTH = 320


def email_address(value: str, *, field: str, label: str = "Email address") -> str:
    """One email address, stripped of surrounding space, or `Invalid` naming `field`."""
    value = value.strip()
    if len(value) > EMAIL_LENGTH or not _EMAIL.fullmatch(value):
        raise Invalid(f"{label} must be one address, such as name@example.com.", field=field)
    return value


def email_key(address: str) -> str:
    """What two spellings of one address have in common: the address lower-cased."""
    return address.strip().lower()


def http_url(value: str, *, field: str, label: str, max_length: int = 2048) -> str:
    value = text(value, field=field, label=label, max_length=max_length)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise Invalid(f"{label} must be an http:// or https:// URL.", field=field)
    return value
