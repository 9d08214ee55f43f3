"""A relying party as the sandbox provider's tests drive it: over real HTTP, by the standards.

`RelyingParty` builds authorization requests (state, nonce, PKCE S256), client assertions and
token requests; `Browser` follows the provider's pages as a citizen would, holding each page to
the page contract. Nothing here knows the provider's internals.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree.ElementTree import Element

import httpx2
from joserfc import jwt
from joserfc.jwk import ECKey, Key, KeySet, RSAKey

from portal.sandbox.idp import ACR_SUBSTANTIAL
from tests.page_client import check_page_contract

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
Clock = Callable[[], Any]


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def http_client() -> httpx2.Client:
    """A client that follows no redirect by itself (building TLS contexts once: they are slow)."""
    return httpx2.Client(follow_redirects=False, timeout=10, trust_env=False, verify=_tls())


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"}, auto_kid=False)


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"}, auto_kid=False)


def public_jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def query(url: str) -> dict[str, str]:
    """The query of a redirect, one value per name (asserting none is repeated)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


@dataclass
class Flow:
    """One authorization request's secrets, kept by the relying party."""

    params: dict[str, str]
    verifier: str

    @property
    def state(self) -> str:
        return self.params["state"]

    @property
    def nonce(self) -> str:
        return self.params["nonce"]

    @property
    def redirect_uri(self) -> str:
        return self.params["redirect_uri"]


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    redirect_uri: str
    key: Key | None
    clock: Clock
    secret: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def flow(self, **overrides: str | None) -> Flow:
        """A fresh request; an override of None leaves that parameter out."""
        verifier, challenge = pkce_pair()
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "state": secrets.token_urlsafe(32),
            "nonce": secrets.token_urlsafe(32),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "acr_values": ACR_SUBSTANTIAL,
            **self.extra,
            **overrides,
        }
        return Flow({k: v for k, v in params.items() if v is not None}, verifier)

    def authorize_url(self, flow: Flow) -> str:
        return f"{self.issuer}/authorize?{urlencode(flow.params)}"

    def now(self) -> int:
        return int(self.clock().timestamp())

    def assertion(
        self,
        *,
        key: Key | None = None,
        header: Mapping[str, Any] | None = None,
        algorithm: str = "ES256",
        **claims: Any,
    ) -> str:
        """A client assertion; keyword claims override (None removes one)."""
        now = self.now()
        body: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.issuer,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        signing = key or self.key
        assert signing is not None
        head = {"alg": algorithm, "kid": signing.kid, **(header or {})}
        return jwt.encode(head, body, signing, algorithms=[algorithm])

    def token(
        self,
        http: httpx2.Client,
        code: str,
        verifier: str | None,
        *,
        assertion: str | None = None,
        redirect_uri: str | None = None,
        **form: str,
    ) -> httpx2.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri or self.redirect_uri,
        }
        if verifier is not None:
            data["code_verifier"] = verifier
        headers = {}
        if self.secret is not None:
            basic = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        else:
            data["client_assertion_type"] = ASSERTION_TYPE
            data["client_assertion"] = assertion or self.assertion()
        data.update(form)
        return http.post(f"{self.issuer}/token", data=data, headers=headers)


@dataclass
class Page:
    response: httpx2.Response
    tree: Element

    def text(self) -> str:
        return " ".join("".join(self.tree.itertext()).split())

    @property
    def h1(self) -> str:
        h1 = self.tree.find(".//h1")
        assert h1 is not None
        return " ".join("".join(h1.itertext()).split())

    def form(self, action: str | None = None) -> Element:
        forms = [
            f
            for f in self.tree.iter("form")
            if (f.get("method") or "").lower() == "post"
            and (action is None or f.get("action") == action)
        ]
        assert len(forms) == 1, f"expected one POST form, found {len(forms)}"
        return forms[0]

    def banner_code(self) -> str:
        for p in self.tree.iter("p"):
            if p.get("class") == "banner-code":
                found = re.search(r"\b(\d{6})\b", "".join(p.itertext()))
                assert found
                return found.group(1)
        raise AssertionError("no one-time code on the banner")


class Browser:
    """A citizen's browser: a cookie jar, redirects taken one hop at a time."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.http = http_client()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def absolute(self, url: str) -> str:
        return url if url.startswith("http") else f"{self.issuer}{url}"

    def get(self, url: str) -> httpx2.Response:
        return self.http.get(self.absolute(url))

    def page(self, url: str, *, status: int = 200) -> Page:
        response = self.get(url)
        return self.as_page(response, status)

    def as_page(self, response: httpx2.Response, status: int = 200) -> Page:
        assert response.status_code == status, (response.status_code, response.text[:600])
        assert response.headers["content-type"].startswith("text/html")
        return Page(response, check_page_contract(response))

    def submit(
        self, page: Page, answers: Mapping[str, str | list[str]], *, action: str | None = None
    ) -> httpx2.Response:
        """Send the page's POST form as a browser would: hidden fields and typed values, the
        answers on top (a list sends the name once per value; checkboxes ticked by default go
        only if named in the answers)."""
        form = page.form(action)
        fields: list[tuple[str, str]] = []
        for element in form.iter("input"):
            name = element.get("name")
            if not name or name in answers or element.get("type") == "checkbox":
                continue
            fields.append((name, element.get("value", "")))
        for name, value in answers.items():
            fields += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
        return self.http.post(
            self.absolute(str(form.get("action"))),
            content=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def authorize(self, rp: RelyingParty, flow: Flow) -> httpx2.Response:
        return self.http.get(rp.authorize_url(flow))

    def sign_in(
        self,
        rp: RelyingParty,
        flow: Flow,
        nin: str,
        *,
        birthdate: str | None = None,
        pin: str | None = None,
    ) -> dict[str, str]:
        """The whole sign-in through the pages; the authorization response's parameters."""
        response = self.authorize(rp, flow)
        assert response.status_code == 302, response.text[:400]
        location = response.headers["location"]
        if not location.startswith(f"{self.issuer}/signin/"):
            return query(location)  # answered at once (SSO)
        page = self.page(location)
        answers = {"nin": nin, "action": "continue"}
        if birthdate is not None:
            answers["birthdate"] = birthdate
        response = self.submit(page, answers)
        assert response.status_code == 303, response.text[:600]
        location = response.headers["location"]
        if location.startswith(f"{self.issuer}/signin/") and location.endswith("/code"):
            page = self.page(location)
            answers = {"code": page.banner_code(), "action": "continue"}
            if pin is not None:
                answers["pin"] = pin
            response = self.submit(page, answers)
            assert response.status_code == 303, response.text[:600]
            location = response.headers["location"]
        assert location.startswith(flow.redirect_uri), location
        return query(location)


def verify(
    token: str, jwks: Mapping[str, Any], *, now: int | None = None, **expected: Any
) -> jwt.Token:
    """A token signed with ES256 by a key of `jwks`, its time claims and the `expected` values
    checked."""
    decoded = jwt.decode(token, KeySet.import_key_set(dict(jwks)), algorithms=["ES256"])  # type: ignore[arg-type]
    registry = jwt.JWTClaimsRegistry(
        now=now if now is not None else int(time.time()),
        leeway=5,
        **{name: {"essential": True, "value": value} for name, value in expected.items()},
    )
    registry.validate(decoded.claims)
    return decoded


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def redeem(
    rp: RelyingParty, citizen: Browser, params: Mapping[str, str], flow: Flow
) -> dict[str, Any]:
    """Exchange the code of a successful authorization response; the token response."""
    response = rp.token(citizen.http, params["code"], flow.verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def userinfo(citizen: Browser, access_token: str) -> httpx2.Response:
    return citizen.http.get(
        f"{citizen.issuer}/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
