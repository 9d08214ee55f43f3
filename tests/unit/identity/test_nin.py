"""Normalising national ID numbers, and the soft check on their date of birth."""

from __future__ import annotations

from datetime import date

import pytest

from portal.identity.nin import nin_birth_date_plausible, nin_normalise


@pytest.mark.parametrize(
    "typed",
    [
        "19850214141170000221",
        "19850214-14117-00002-21",
        " 1985 0214 1411 7000 0221 ",
        "19850214–14117—00002‑21",  # dashes a phone keyboard or a word processor makes
        "19850214\u00a014117\u00a00000221",
    ],
)
def test_a_nin_is_normalised_to_its_20_digits(typed: str):
    assert nin_normalise(typed) == "19850214141170000221"


@pytest.mark.parametrize(
    "typed",
    [
        "1985021414117000022",  # 19 digits
        "198502141411700002211",  # 21 digits
        "19850214.14117.00002.21",  # dots are not separators
        "1985021414117000022O",  # a letter O
        "١٩٨٥٠٢١٤١٤١١٧٠٠٠٠٢٢١",  # digits, but not ASCII ones
        "",
    ],
)
def test_anything_else_is_refused_without_repeating_it(typed: str):
    with pytest.raises(ValueError, match=r"^a NIN is 20 digits$"):
        nin_normalise(typed)


def test_a_real_past_date_is_plausible():
    assert nin_birth_date_plausible("19850214-14117-00002-21", today=date(2026, 12, 1))
    assert nin_birth_date_plausible("20261201000000000001", today=date(2026, 12, 1))  # born today


@pytest.mark.parametrize(
    "nin",
    [
        "19850230141170000221",  # 30 February
        "19851314141170000221",  # month 13
        "20261202000000000001",  # tomorrow
        "18991231141170000221",  # before 1900
        "not a nin",
    ],
)
def test_an_impossible_date_is_flagged(nin: str):
    assert not nin_birth_date_plausible(nin, today=date(2026, 12, 1))


def test_the_plausibility_check_uses_today_by_default():
    assert nin_birth_date_plausible("19850214141170000221")
    assert not nin_birth_date_plausible("29991231141170000221")
