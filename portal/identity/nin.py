"""The national identification number (NIN): 20 digits, the first 8 the date of birth.

No checksum is published, so none is invented; the date is only a soft check, since records
with odd dates exist and children are registered from birth. A NIN is personal data: these
functions never put it in an error message.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

NIN_LENGTH = 20
# Spaces of every kind and the dashes people type or paste between groups of digits.
_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212]+")
_DIGITS = re.compile(r"[0-9]{20}")
EAST_AFRICA = timezone(timedelta(hours=3), "EAT")  # no daylight saving
EARLIEST_BIRTH_YEAR = 1900


def nin_normalise(text: str) -> str:
    """The 20 digits of a NIN as typed or sent, spaces and dashes dropped; ValueError if not."""
    digits = _SEPARATORS.sub("", text)
    if not _DIGITS.fullmatch(digits):
        raise ValueError(f"a NIN is {NIN_LENGTH} digits")
    return digits


def nin_birth_date_plausible(nin: str, *, today: date | None = None) -> bool:
    """Whether the NIN starts with a real date (YYYYMMDD) since 1900 and not after `today`.

    A soft check, to flag a record for a look, never to refuse one.
    """
    try:
        digits = nin_normalise(nin)
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    today = today or datetime.now(EAST_AFRICA).date()
    return born.year >= EARLIEST_BIRTH_YEAR and born <= today
