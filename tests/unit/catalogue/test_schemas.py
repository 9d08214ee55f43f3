"""The service record's own rules."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from portal.catalogue.schemas import Channels, Launch, SharedAttribute, Steps, parse_duration
from portal.identity.attributes import ATTRIBUTES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P7D", dt.timedelta(days=7)),
        ("PT48H", dt.timedelta(hours=48)),
        ("PT30M", dt.timedelta(minutes=30)),
        ("P2W", dt.timedelta(weeks=2)),
        ("P1DT12H", dt.timedelta(days=1, hours=12)),
    ],
)
def test_durations(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "7D", "P1M", "P1Y", "P1DT", "P-1D", "siku 7"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration(text)


def test_a_service_needs_a_channel() -> None:
    with pytest.raises(ValidationError, match="at least one channel"):
        Channels()


@pytest.mark.parametrize("code", ["*152*00#", "*106#"])
def test_ussd_codes(code: str) -> None:
    assert Channels(ussd=code).ussd == code


@pytest.mark.parametrize("code", ["152", "*152*00", "*15a#"])
def test_bad_ussd_codes(code: str) -> None:
    with pytest.raises(ValidationError):
        Channels(ussd=code)


def test_govesb_launch_needs_an_api_code_and_links_need_none() -> None:
    with pytest.raises(ValidationError, match="needs an api_code"):
        Launch(mode="govesb")
    with pytest.raises(ValidationError, match="only for mode govesb"):
        Launch(mode="link", api_code="RITA-BIRTH")


def test_steps_must_match_in_both_languages() -> None:
    with pytest.raises(ValidationError, match="same number of steps"):
        Steps(sw=["Moja", "Mbili"], en=["One"])


def test_a_launch_shares_the_nin_and_no_attribute_twice() -> None:
    assert Launch(mode="govesb", api_code="RITA-BIRTH").shares == list(SharedAttribute)
    assert Launch(mode="govesb", api_code="X-1", shares=["nin", "given_name"]).shares == [
        SharedAttribute.nin,
        SharedAttribute.given_name,
    ]
    with pytest.raises(ValidationError, match="must include nin"):
        Launch(mode="govesb", api_code="X-1", shares=["given_name"])
    with pytest.raises(ValidationError, match="twice"):
        Launch(mode="govesb", api_code="X-1", shares=["nin", "nin"])
    with pytest.raises(ValidationError):
        Launch(mode="govesb", api_code="X-1", shares=["nin", "blood_group"])


def test_what_a_service_may_be_given_is_what_a_session_keeps() -> None:
    assert [attribute.value for attribute in SharedAttribute] == list(ATTRIBUTES)
