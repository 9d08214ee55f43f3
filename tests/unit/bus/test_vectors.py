"""Fixed GovESB vectors: keys made once with OpenSSL, a payload, its exact signed bytes, and
signatures made once with `openssl dgst -sha256 -sign` that must keep verifying."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from portal.bus.govesb import (
    compact,
    curve_name,
    envelope,
    envelope_open,
    private_key_load,
    private_key_text,
    public_key_load,
    public_key_text,
    signature_valid,
)

SECP256K1_PKCS8 = (
    "MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgMGav2bHiXU4hvhhPh4ooMFUSSUnmBTSfjeMru/9i9oyhRANCAATa"
    "XlZepK6pWdtOwAl6I/8WUDEVS10oz9wz8CTbFBHq6Jy6HggQai9anm3E95q6eiOoAnRga4r7WmrNZOXahE8q"
)
SECP256K1_SEC1 = (
    "MHQCAQEEIDBmr9mx4l1OIb4YT4eKKDBVEklJ5gU0n43jK7v/YvaMoAcGBSuBBAAKoUQDQgAE2l5WXqSuqVnbTsAJeiP/FlAx"
    "FUtdKM/cM/Ak2xQR6uicuh4IEGovWp5txPeaunojqAJ0YGuK+1pqzWTl2oRPKg=="
)
SECP256K1_SPKI = (
    "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE2l5WXqSuqVnbTsAJeiP/FlAxFUtdKM/cM/Ak2xQR6uicuh4IEGovWp5txPeaun"
    "ojqAJ0YGuK+1pqzWTl2oRPKg=="
)
# The same private scalar as Java's SunEC writes it (spec §4): 64 bytes, no public key inside.
SECP256K1_SUNEC_PKCS8 = (
    "MD4CAQAwEAYHKoZIzj0CAQYFK4EEAAoEJzAlAgEBBCAwZq/ZseJdTiG+GE+HiigwVRJJSeYFNJ+N4yu7/2L2jA=="
)
P256_PKCS8 = (
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2MFQfeh4eNDCg+OOy8kWitbn7ir/ScOBRGaQf7GpGbahRAN"
    "CAAQSnlf1llZKe2GT22wgkJWdIOdgYDYuIpUht20mnSjtijnjwMRmzOpcIEPnZEyp7xnTSSxUUa2DMgOPJczCk55g"
)
P256_SPKI = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEp5X9ZZWSnthk9tsIJCVnSDnYGA2LiKVIbdtJp0o7Yo548DEZszqXCBD52R"
    "Mqe8Z00ksVFGtgzIDjyXMwpOeYA=="
)
P521_PKCS8 = (
    "MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIA5wINfbA5wo6I8z94zpOjxL0hOlWUJW9RdY0Cgko/InDCEbPF"
    "UJZc1HbKfHZPsR41s41ehYkOXggHxnA6MLpIBwChgYkDgYYABABZspXtdfHzlveQwrhf+CTXSpAnIiTdetQcbYqdZTJXdmQ"
    "2bapmg9bgIOK77wKaofqIumv0enTJ5UvqgLTNkBZjDwFOtFSJQiZKOlSKP82KwIplCAE9zAn2VT7+oKoce0GTOhxtoJqmEi5"
    "k+VA6/MxEbJv/MGNy11m+yIcbQ0lNSBQhKg=="
)
P521_SPKI = (
    "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAWbKV7XXx85b3kMK4X/gk10qQJyIk3XrUHG2KnWUyV3ZkNm2qZoPW4CDiu+8C"
    "mqH6iLpr9Hp0yeVL6oC0zZAWYw8BTrRUiUImSjpUij/NisCKZQgBPcwJ9lU+/qCqHHtBkzocbaCaphIuZPlQOvzMRGyb/zB"
    "jctdZvsiHG0NJTUgUISo="
)

PAYLOAD = {
    "apiCode": "RITA-BIRTH-REG",
    "esbBody": {
        "operation": "open",
        "purpose": "Usajili wa kizazi — «Zuhura» ✓ 𝄞 /mtoto/",
        "citizen": {
            "givenName": "Zuhura",
            "familyName": "Mkwawa\u2028",
            "nin": "19900101123450000126",
        },
        "note": 'tab\there "quoted" back\\slash\x01\x1f\x7f\n',
        "sequence": 18446744073709551617,
        "negative": -9223372036854775809,
        "flags": [True, False, None],
        "empty": {},
        "list": [],
    },
}
# Written out by hand from the Jackson rules of spec §5.
PAYLOAD_COMPACT = (
    b'{"apiCode":"RITA-BIRTH-REG","esbBody":{"operation":"open",'
    b'"purpose":"Usajili wa kizazi \xe2\x80\x94 \xc2\xabZuhura\xc2\xbb \xe2\x9c\x93 '
    b'\xf0\x9d\x84\x9e /mtoto/",'
    b'"citizen":{"givenName":"Zuhura","familyName":"Mkwawa\xe2\x80\xa8",'
    b'"nin":"19900101123450000126"},'
    b'"note":"tab\\there \\"quoted\\" back\\\\slash\\u0001\\u001F\x7f\\n",'
    b'"sequence":18446744073709551617,"negative":-9223372036854775809,'
    b'"flags":[true,false,null],"empty":{},"list":[]}}'
)
# `openssl dgst -sha256 -sign <key>.pem payload` over PAYLOAD_COMPACT, once, by each key.
SECP256K1_OPENSSL_SIGNATURE = (
    "MEUCIByl1Pw/NApSvRiIOAHeXucqx/EfjIKgDiIgpNMDJvBK"
    "AiEA+8f7P+Xmr0h24t+C3FtgDCx0gieBou84u9BvYFcWnX8="
)
P256_OPENSSL_SIGNATURE = (
    "MEQCIHwNGyObR7z6viIbVgduE35McBOvQXKy1Lvx1uhPpGzf"
    "AiAUek0jbf20+dg+xPYB04JWL5npUpATxOBYH4P69it1gw=="
)
P521_OPENSSL_SIGNATURE = (
    "MIGIAkIA54rrBZCt2vFb74NszA3lFnhShosxDIHMY6ATurlbxF5sBltFlS+g7+oEpP0sCATsOL7E8ON5qMtGw3t/U7n+fGUC"
    "QgGbFAYSY5GmZGQZkwxnrQ+88SgMpz2QP1t5anI54Pe2bac+lCiEMZPzZfvPagHDRfnPZEhC6JEgspFpxJs1gV+Yzw=="
)
# RFC 6979 (deterministic) ECDSA over PAYLOAD_COMPACT with the secp256k1 key.
SECP256K1_RFC6979_SIGNATURE = (
    "MEUCIBwdVQW8k5fUfT+SCwL+7a9+wbAfQzEXL/n/3GWUk+G9"
    "AiEA1wf8UProVZ2c8jaFVpUe6kLp2KXbMVmLO6Nb+ywpWOc="
)
SECP256K1_RFC6979_ENVELOPE = (
    b'{"data":' + PAYLOAD_COMPACT + b',"signature":"' + SECP256K1_RFC6979_SIGNATURE.encode() + b'"}'
)

CURVE_VECTORS = [
    pytest.param(
        SECP256K1_PKCS8, SECP256K1_SPKI, SECP256K1_OPENSSL_SIGNATURE, "secp256k1", id="k1"
    ),
    pytest.param(P256_PKCS8, P256_SPKI, P256_OPENSSL_SIGNATURE, "P-256", id="p256"),
    pytest.param(P521_PKCS8, P521_SPKI, P521_OPENSSL_SIGNATURE, "P-521", id="p521"),
]


@pytest.mark.parametrize(("pkcs8", "spki", "signature", "curve"), CURVE_VECTORS)
def test_the_fixed_keys_load_and_write_back_unchanged(
    pkcs8: str, spki: str, signature: str, curve: str
) -> None:
    private = private_key_load(pkcs8)
    public = public_key_load(spki)
    assert curve_name(private) == curve_name(public) == curve
    assert private_key_text(private) == pkcs8
    assert public_key_text(private) == public_key_text(public) == spki


@pytest.mark.parametrize(("pkcs8", "spki", "signature", "curve"), CURVE_VECTORS)
def test_an_openssl_signature_verifies(pkcs8: str, spki: str, signature: str, curve: str) -> None:
    public = public_key_load(spki)
    text = PAYLOAD_COMPACT.decode()
    assert signature_valid(text, signature, public)
    assert not signature_valid(text.replace("Zuhura", "Zuhra", 1), signature, public)
    sealed = b'{"data":' + PAYLOAD_COMPACT + b',"signature":"' + signature.encode() + b'"}'
    assert envelope_open(sealed, public) == PAYLOAD


def test_the_openssl_signature_fails_under_another_curve_s_key() -> None:
    text = PAYLOAD_COMPACT.decode()
    assert not signature_valid(text, SECP256K1_OPENSSL_SIGNATURE, public_key_load(P256_SPKI))


def test_a_sunec_pkcs8_without_the_public_key_loads_as_the_same_key() -> None:
    assert len(base64.b64decode(SECP256K1_SUNEC_PKCS8)) == 64
    key = private_key_load(SECP256K1_SUNEC_PKCS8)
    assert public_key_text(key) == SECP256K1_SPKI
    assert private_key_text(key) == SECP256K1_PKCS8


def test_a_sec1_key_loads_as_the_same_key() -> None:
    assert private_key_text(private_key_load(SECP256K1_SEC1)) == SECP256K1_PKCS8


def test_the_payload_compacts_to_the_exact_bytes() -> None:
    assert compact(PAYLOAD).encode("utf-8") == PAYLOAD_COMPACT


def test_the_envelope_is_exact_but_for_its_signature_which_verifies() -> None:
    key = private_key_load(SECP256K1_PKCS8)
    sealed = envelope(PAYLOAD, key)
    head = b'{"data":' + PAYLOAD_COMPACT + b',"signature":"'
    assert sealed.startswith(head)
    assert sealed.endswith(b'"}')
    signature = sealed[len(head) : -2].decode("ascii")
    assert base64.b64encode(base64.b64decode(signature, validate=True)).decode() == signature
    assert signature_valid(PAYLOAD_COMPACT.decode(), signature, public_key_load(SECP256K1_SPKI))


def test_the_rfc6979_envelope_is_exact() -> None:
    key = private_key_load(SECP256K1_PKCS8)
    text = compact(PAYLOAD)
    der = key.sign(text.encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    built = b'{"data":%s,"signature":"%s"}' % (text.encode(), base64.b64encode(der))
    assert built == SECP256K1_RFC6979_ENVELOPE
    assert envelope_open(built, public_key_load(SECP256K1_SPKI)) == PAYLOAD
