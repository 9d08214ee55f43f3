"""The verified attributes a session carries: checked on the way in, sealed under the cookie."""

from __future__ import annotations

from portal.identity.attributes import (
    attributes_from_claims,
    attributes_seal,
    attributes_unseal,
)

NIN = "19880314511010004217"


def test_only_well_formed_attributes_are_kept() -> None:
    claims = {
        "nin": "19880314-51101-00042-17",
        "given_name": " Neema ",
        "family_name": "x" * 201,  # too long: left out
        "birthdate": "14/03/1988",  # not ISO: left out
        "phone_number": 255700000101,  # not text: left out
        "email": "neema@example.test",  # not one we keep
    }
    assert attributes_from_claims(claims) == {"nin": NIN, "given_name": "Neema"}
    assert attributes_from_claims({"nin": "12345"}) == {}


def test_sealed_attributes_open_only_with_their_cookie() -> None:
    sealed = attributes_seal("cookie-token", {"nin": NIN, "given_name": "Neema"})
    assert NIN not in sealed
    assert "Neema" not in sealed
    assert attributes_unseal("cookie-token", sealed) == {"nin": NIN, "given_name": "Neema"}
    assert attributes_unseal("another-cookie", sealed) == {}
    assert attributes_unseal("cookie-token", sealed[:-4] + "AAAA") == {}
    assert attributes_unseal("cookie-token", "not base64 at all!") == {}
    assert attributes_unseal("cookie-token", "") == {}
