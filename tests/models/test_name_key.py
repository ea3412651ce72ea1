"""`name_key`: one key for a name, its case variants and its Unicode look-alikes;
ASCII names keep the keys they had. And the migration that re-keys existing rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from importlib.metadata import distribution, version
from pathlib import Path

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

import config
from models.entity import _CONFUSABLES_TXT, _MAX_FOLDS, _PROTOTYPES, _fold, name_key
from tests.e2e.process import server_env
from tests.support.helpers import create_database, drop_database

TWINS_OF_ACME = {
    "cyrillic-capital-a": "\u0410cme",
    "cyrillic-small-a-e-s": "\u0430\u0441m\u0435",
    "all-cyrillic-capitals": "\u0410\u0421\u041c\u0415",
    "all-cyrillic-small": "\u0430\u0441\u043c\u0435",
    "greek-capitals": "\u0391C\u039c\u0395",
    "zero-width-space": "acme\u200b",
    "zero-width-joiner": "ac\u200dme",
    "zero-width-non-joiner": "a\u200ccme",
    "word-joiner": "ac\u2060me",
    "byte-order-mark": "\ufeffacme",
    "soft-hyphen": "ac\u00adme",
    "right-to-left-override": "acme\u202e",
    "variation-selector": "acme\ufe0f",
    "combining-grapheme-joiner": "ac\u034fme",
    "hangul-filler": "acme\u3164",
    "fullwidth": "\uff41\uff43\uff4d\uff45",
    "fullwidth-capitals": "\uff21\uff23\uff2d\uff25",
    "mathematical-bold": "\U0001d41a\U0001d41c\U0001d426\U0001d41e",
    "latin-alpha": "\u0251cme",
}

ORDINARY_NAMES = ["acme", "ml-lab", "ML-Lab", "Acme Corp", "a_b-9", "rn", "m", "l1I|0Oo", "x" * 64]


@pytest.mark.parametrize("twin", TWINS_OF_ACME.values(), ids=TWINS_OF_ACME.keys())
def test_a_lookalike_has_the_key_of_the_name_it_imitates(twin):
    assert name_key(twin) == name_key("acme") == "acme"


@pytest.mark.parametrize("name", ORDINARY_NAMES)
def test_an_ascii_name_keeps_its_key_lower_cased(name):
    assert name_key(name) == name.lower() == name.casefold()


def test_every_ascii_character_is_its_own_key_by_the_long_way_too():
    for code in range(128):
        assert _fold(chr(code)) == chr(code).lower(), repr(chr(code))
    assert not [code for code in _PROTOTYPES if code < 128]


@pytest.mark.parametrize(
    "variants",
    [
        ("acme", "ACME", "AcMe"),
        ("Straße", "STRASSE", "strasse"),
        ("Zürich", "ZÜRICH", "zu\u0308rich"),
        ("\u0410\u0421\u041c\u0415", "\u0430\u0441\u043c\u0435", "ACME"),
        ("\u039d\u0395\u03a4", "\u03bd\u03b5\u03c4"),
    ],
    ids=["ascii", "sharp-s", "umlaut-composed-or-not", "cyrillic", "greek"],
)
def test_case_variants_share_a_key(variants):
    assert len({name_key(variant) for variant in variants}) == 1


@pytest.mark.parametrize(
    "names",
    [
        ("rn", "m"),
        ("l", "1", "I", "|"),
        ("o", "0"),
        ("acme", "acne", "acrne"),
        ("ml-lab", "ml_lab", "mllab"),
        ("zurich", "zürich"),
        ("vet", "net"),
    ],
)
def test_distinct_names_keep_distinct_keys(names):
    assert len({name_key(name) for name in names}) == len(names)


def test_the_rn_prototype_of_m_keys_as_m():
    # U+11700 AHOM LETTER KA: confusables.txt gives it the prototype "rn", which is the
    # prototype of "m"; ASCII "rn" and "m" stay two names, and this one passes for "m".
    assert name_key("ac\U00011700e") == "acme"


def test_a_small_letter_keys_as_its_capitals_twin_only_when_it_has_none_itself():
    assert name_key("\u043c") == "m"  # Cyrillic em: "М" passes for "M"
    assert name_key("\u03bd") == "v"  # Greek nu passes for "v" itself, though "Ν" for "N"


@pytest.mark.parametrize(
    "name",
    [*ORDINARY_NAMES, *TWINS_OF_ACME.values(), "Zürich", "\u03db", "\u2030", "\ufdfa", "ǅ"],
)
def test_the_key_of_a_key_is_itself(name):
    key = name_key(name)

    assert name_key(key) == key


def test_every_confusable_and_invisible_character_reaches_its_key_within_the_folds():
    special = [*_PROTOTYPES, *(c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf")]
    for code in special:
        folds, text = 0, chr(code)
        while (again := _fold(text)) != text:
            folds, text = folds + 1, again
        assert folds <= _MAX_FOLDS, f"U+{code:04X}"
        assert name_key(chr(code)) == text, f"U+{code:04X}"


def test_a_prefix_of_an_ascii_name_keys_as_the_prefix_of_its_key():
    name = "Acme Corp-42_x"
    for end in range(len(name) + 1):
        assert name_key(name[:end]) == name_key(name)[:end]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Zü", "Zürich"),
        ("Zu\u0308", "Zürich"),
        ("\u0410c", "Acme"),
        ("ａｃ", "Acme"),
        ("STRA", "Straße"),
    ],
)
def test_a_typed_prefix_of_a_unicode_name_finds_it(typed, name):
    assert name_key(name).startswith(name_key(typed))


def test_keys_are_nfc_so_an_accented_name_keeps_its_key():
    assert name_key("\u00c1cme") == name_key("A\u0301cme") == "\u00e1cme"
    assert name_key("\u00c1cme") != name_key("Acme")


def test_an_ascii_key_is_as_long_as_its_name_but_nfkc_can_lengthen_others():
    assert len(name_key("x" * 64)) == 64
    # Why createTeam checks the length of an organization name's key, not only the name's.
    assert len(name_key("\ufdfa")) > 1


def test_the_pinned_confusables_package_still_holds_the_unicode_data_file():
    """`name_key` reads a file inside the package, not its API (models/entity.py):
    this fails when a release moves or drops it, or the pin in pyproject.toml moves."""
    path = distribution("confusables").locate_file(_CONFUSABLES_TXT)
    head = Path(str(path)).read_text(encoding="utf-8-sig")[:600]

    assert version("confusables").startswith("1.2.")
    assert "Unicode Security Mechanisms for UTS #39" in head
    assert len(_PROTOTYPES) > 6000
    assert _PROTOTYPES[0x0430] == "a"  # CYRILLIC SMALL LETTER A
    assert _PROTOTYPES[0x0410] == "A"  # CYRILLIC CAPITAL LETTER A
    assert _PROTOTYPES[0x043C] == "m"  # CYRILLIC SMALL LETTER EM, as its capital


# The data migration (migrations/0004_name_key_lookalikes.py), in a process of its own:
# migrating needs the ORM's global state, which the session's database fixture holds.

ENTITIES = [
    "acme",  # 1: an ASCII name keeps its key
    "\u0410cme",  # 2: its newer Cyrillic twin keeps its old key: "acme" is held
    "\uff3aed",  # 3: fullwidth, older: takes the free key "zed"
    "zed\u200b",  # 4: newer: "zed" is now held, it keeps its old key
    "ml-lab",
]
ORGANIZATIONS = [
    "\u0410cme Corp",  # 1: older, yet "acme corp" is held by 2, which keeps it
    "Acme Corp",  # 2
    "\uff21cme Labs",  # 3: fullwidth: takes the free key "acme labs"
    "\ufdfa" * 8,  # 4: NFKC makes its key longer than the column: it keeps its old one
]

_REKEY = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
import config

BEFORE = "models.0003_organization_name_statistics"
REKEY = "models.0004_name_key_lookalikes"


async def step(target):
    try:
        await migrate(config=config.TORTOISE_ORM, target=target)
    finally:
        await Tortoise.close_connections()


async def keys():
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        db = connections.get("default")
        return {
            table: [row["name_key"] for row in await db.execute_query_dict(
                f"SELECT name_key FROM {table} ORDER BY id"
            )]
            for table in ("entity", "organization")
        }
    finally:
        await Tortoise.close_connections()


async def main():
    rows = json.loads(sys.argv[1])
    await step(BEFORE)
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        db = connections.get("default")
        mark = "$1, $2" if db.capabilities.dialect == "postgres" else "?, ?"
        for table, names in rows.items():
            for name in names:  # as the old `name_key` wrote them
                await db.execute_query(
                    f"INSERT INTO {table} (name, name_key, "
                    + ("is_team, " if table == "entity" else "")
                    + f"created_at) VALUES ({mark}, "
                    + ("FALSE, " if table == "entity" else "")
                    + "CURRENT_TIMESTAMP)",
                    [name, name.casefold()],
                )
    finally:
        await Tortoise.close_connections()
    await step(REKEY)
    forward = await keys()
    await step(BEFORE)
    backward = await keys()
    await step(REKEY)
    again = await keys()
    print(json.dumps({"forward": forward, "backward": backward, "again": again}))


asyncio.run(main())
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_migration_rekeys_rows_and_leaves_lookalike_twins_apart(kind):
    if kind == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    db = await create_database(kind, name="rekey")
    try:
        rows = json.dumps({"entity": ENTITIES, "organization": ORGANIZATIONS})

        done = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", _REKEY, rows],
            cwd=config.ROOT,
            env=server_env(db.url),
            capture_output=True,
            text=True,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        keys = json.loads(done.stdout.splitlines()[-1])
        old = {
            "entity": [name.casefold() for name in ENTITIES],
            "organization": [name.casefold() for name in ORGANIZATIONS],
        }
        assert keys["forward"] == {
            "entity": ["acme", "\u0430cme", "zed", "zed\u200b", "ml-lab"],
            "organization": ["\u0430cme corp", "acme corp", "acme labs", "\ufdfa" * 8],
        }
        assert keys["backward"] == old
        assert keys["again"] == keys["forward"]
        for left in ("Entity 2", "Entity 4", "Organization 1", "Organization 4"):
            assert f"{left} (" in done.stderr
    finally:
        await drop_database(db)
        EXECUTOR_CACHE.clear()
