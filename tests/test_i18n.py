"""Interface text: every string the templates and code use has a complete Swahili translation."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.config import PROJECT_ROOT
from portal.web.i18n import LOCALE_DIR

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")
METHODS = [
    ("portal/**.py", "python"),
    ("templates/**.html", "jinja2"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}


@pytest.fixture(scope="module")
def used_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), METHODS, options_map=OPTIONS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def swahili():  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / "sw" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale="sw")


def test_every_used_string_is_translated(used_messages: set[str], swahili) -> None:  # type: ignore[no-untyped-def]
    assert len(used_messages) > 50
    missing = []
    for message_id in sorted(used_messages):
        entry = swahili.get(message_id)
        strings = entry.string if entry else None
        if not strings or (isinstance(strings, tuple) and not all(strings)) or entry.fuzzy:
            missing.append(message_id)
    assert missing == []


def test_translations_keep_their_placeholders(swahili) -> None:  # type: ignore[no-untyped-def]
    for entry in swahili:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == expected, entry.id


def test_no_stale_entries(used_messages: set[str], swahili) -> None:  # type: ignore[no-untyped-def]
    stale = [
        entry.id
        for entry in swahili
        if entry.id
        and (entry.id[0] if isinstance(entry.id, tuple) else entry.id) not in used_messages
    ]
    assert stale == [], "run `make messages` to drop strings no longer used"
