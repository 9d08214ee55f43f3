"""Levels of assurance: a lower sign-in never satisfies a higher need, and step-up says so."""

from types import SimpleNamespace
from typing import Any

import pytest

from portal.identity.assurance import ACR, LEVELS, acr_satisfies
from portal.identity.dependencies import AssuranceCheck, SignInRequired


@pytest.mark.parametrize("signed_in", LEVELS)
@pytest.mark.parametrize("needed", LEVELS)
def test_a_level_is_met_by_itself_and_those_above(signed_in: Any, needed: Any) -> None:
    assert acr_satisfies(ACR[signed_in], needed) == (
        LEVELS.index(signed_in) >= LEVELS.index(needed)
    )


@pytest.mark.parametrize("acr", ["", "urn:tz:nida:loa:HIGH", "urn:other:high", "high"])
def test_an_unknown_acr_meets_no_level(acr: str) -> None:
    assert not acr_satisfies(acr, "low")


def _request(acr: str | None) -> Any:
    visitor = None if acr is None else SimpleNamespace(web_session=SimpleNamespace(acr=acr))
    return SimpleNamespace(
        state=SimpleNamespace(visitor=visitor), url=SimpleNamespace(path="/huduma/x")
    )


def test_a_person_signed_in_too_low_is_sent_to_sign_in_at_the_level_needed() -> None:
    with pytest.raises(SignInRequired) as raised:
        AssuranceCheck("high")(_request(ACR["substantial"]))
    assert raised.value.headers == {"Location": "/ingia?rudi=%2Fhuduma%2Fx&kiwango=high"}
    with pytest.raises(SignInRequired):
        AssuranceCheck("low")(_request(None))
    assert AssuranceCheck("substantial")(_request(ACR["high"])) is not None
