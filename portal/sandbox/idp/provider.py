"""The sandbox provider's behaviour: authorization, sign-in steps, codes, tokens, userinfo,
logout. Routes turn HTTP into calls here and results back into HTTP; nothing here renders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from portal.sandbox.idp.citizens import Citizen, citizens_load, nin_normalise, nin_reference
from portal.sandbox.idp.clients import ASSERTION_ALGORITHMS, ClientAuthenticator, ClientAuthError
from portal.sandbox.idp.config import (
    SANDBOX,
    ClientRegistration,
    IdpConfig,
    IdpFaults,
)
from portal.sandbox.idp.keys import SIGNING_ALG, SigningKeys
from portal.sandbox.idp.logout import BACKCHANNEL_EVENT, LOGOUT_TOKEN_TYPE, backchannel_send
from portal.sandbox.idp.protocol import (
    ACR_HIGH,
    ACR_LOW,
    ACR_VALUES,
    AMR,
    PROMPTS,
    SCOPE_CLAIMS,
    SCOPES,
    USER_CLAIMS,
    AuthorizationError,
    AuthorizationRequest,
    UnsafeRequestError,
    acr_satisfies,
    authorization_client,
    authorization_parse,
    pairwise_subject,
    pkce_verify,
    token_hash,
    url_with_query,
)
from portal.sandbox.idp.state import (
    AccessGrant,
    Attempts,
    CodeGrant,
    Memory,
    Session,
    SignIn,
    token_new,
)
from portal.sandbox.idp.text import language_pick
from portal.sandbox.serving import environment_refuse

logger = logging.getLogger("portal.sandbox.idp")

WRONG_ISSUER = "http://wrong-issuer.invalid"
WRONG_AUDIENCE = "not-this-client"
LOGOUT_TOKEN_TTL = 120
CODE_DIGITS = 6
# Claims of every ID token; the citizen's attributes come only when asked for.
TOKEN_CLAIMS = (
    *("iss", "sub", "aud", "exp", "iat", "auth_time"),
    *("nonce", "acr", "amr", "sid", "at_hash"),
)


@dataclass(frozen=True)
class Redirect:
    """Send the browser to `url`; `browser` is a new browser id to set as the cookie."""

    url: str
    browser: str | None = None


@dataclass(frozen=True)
class Problem:
    """A request that gets an error page, never a redirect."""

    detail: str
    status: int = 400


Message = tuple[str, dict[str, object]]  # a text key and its placeholder values


@dataclass
class StepResult:
    """What a sign-in step did: moved on (`redirect`), found mistakes (`errors`, by field), or
    ran into a lock (`locked`: "nin" or "address")."""

    redirect: Redirect | None = None
    errors: dict[str, Message] = field(default_factory=dict)
    locked: str | None = None


@dataclass(frozen=True)
class EndSessionResult:
    redirect: Redirect | None = None
    problem: Problem | None = None
    page: str | None = None  # "confirm", "logged_out" or "stayed"
    client: ClientRegistration | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class TokenResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class Provider:
    """One sandbox provider: its configuration, keys, demo citizens and memory."""

    def __init__(self, config: IdpConfig) -> None:
        environment_refuse(config.environment, SANDBOX)
        self.config = config
        self.issuer = config.issuer
        self.citizens: dict[str, Citizen] = citizens_load(config.citizens_file)
        self.keys = SigningKeys(config.signing_keys)
        self.memory = Memory()
        self.faults: IdpFaults = config.faults
        self.secret = secrets.token_bytes(32)  # CSRF tokens and log references, this process only
        self.authenticator = ClientAuthenticator(config, self.memory)

    # ----- addresses and metadata

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"

    @property
    def token_endpoint(self) -> str:
        return self.url("/token")

    def now(self) -> dt.datetime:
        return self.config.clock()

    def discovery(self) -> dict[str, Any]:
        """The provider metadata: only what it enforces."""
        methods = sorted({c.token_endpoint_auth_method for c in self.config.clients}) or [
            "private_key_jwt"
        ]
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": self.url("/userinfo"),
            "jwks_uri": self.url("/jwks.json"),
            "end_session_endpoint": self.url("/logout"),
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": [SIGNING_ALG],
            "userinfo_signing_alg_values_supported": [SIGNING_ALG],
            "token_endpoint_auth_methods_supported": methods,
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": list(ACR_VALUES),
            "claims_supported": [*TOKEN_CLAIMS, *USER_CLAIMS],
            "claims_parameter_supported": True,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "require_request_uri_registration": False,
            "prompt_values_supported": list(PROMPTS),
            "ui_locales_supported": ["sw", "en"],
            "display_values_supported": ["page"],
            "claim_types_supported": ["normal"],
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "frontchannel_logout_supported": False,
        }

    def nin_ref(self, nin: str) -> str:
        return nin_reference(nin, self.secret)

    # ----- browser binding and CSRF

    def csrf_token(self, browser: str, purpose: str) -> str:
        message = f"{browser}\x00{purpose}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def csrf_valid(self, browser: str | None, purpose: str, token: str | None) -> bool:
        if not browser or not token:
            return False
        return hmac.compare_digest(self.csrf_token(browser, purpose), token)

    # ----- authorization

    def _response_url(self, redirect_uri: str, params: Mapping[str, str | None]) -> str:
        """An authorization response, with RFC 9207 `iss` (unless a fault spoils it)."""
        values: dict[str, str | None] = dict(params)
        if not self.faults.omit_iss_in_response:
            values["iss"] = WRONG_ISSUER if self.faults.wrong_iss_in_response else self.issuer
        return url_with_query(redirect_uri, values)

    def _error_url(self, redirect_uri: str, state: str | None, error: str, description: str) -> str:
        return self._response_url(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )

    def authorize(
        self, params: Sequence[tuple[str, str]], browser: str | None
    ) -> Redirect | Problem:
        """Answer an authorization request: at once (an error, SSO, a headless sign-in) or by
        sending the browser to the sign-in pages."""
        now = self.now()
        self.memory.sweep(now)
        try:
            request = authorization_parse(params, self.config)
        except UnsafeRequestError as error:
            logger.info("authorization refused without redirect: %s", error.detail)
            return Problem(error.detail)
        except AuthorizationError as error:
            _client, redirect_uri, state = authorization_client(params, self.config)
            logger.info("authorization error %s: %s", error.error, error.description)
            return Redirect(self._error_url(redirect_uri, state, error.error, error.description))
        if self.faults.authorization_error:
            return Redirect(
                self._error_url(
                    request.redirect_uri,
                    request.state,
                    self.faults.authorization_error,
                    "injected by the sandbox's fault settings",
                )
            )
        session = self.memory.session_of_browser(browser, now)
        usable = session is not None and self._session_serves(session, request, now)
        if "none" in request.prompt:
            if session is None or not usable:
                return Redirect(
                    self._error_url(
                        request.redirect_uri,
                        request.state,
                        "login_required",
                        "the citizen is not signed in at the level asked for",
                    )
                )
            assert session is not None
            return Redirect(self._code_redirect(request, session, None, now))
        hinted = self._headless_citizen(request)
        if hinted is not None and not (usable and session is not None and session.nin == hinted):
            session, browser = self._authenticated(
                browser=browser, nin=hinted, acr=request.acr_target, now=now
            )
            logger.info("headless sign-in of NIN ref %s", self.nin_ref(hinted))
            return Redirect(self._code_redirect(request, session, None, now), browser=browser)
        if usable and session is not None and "consent" not in request.prompt:
            return Redirect(self._code_redirect(request, session, None, now))
        new_browser = None
        if browser is None:
            browser = new_browser = token_new()
        sign_in = SignIn(
            id=token_new(),
            request=request,
            browser=browser,
            language=language_pick(request.ui_locales),
            expires_at=now + dt.timedelta(seconds=self.config.sign_in_ttl),
        )
        path = f"/signin/{sign_in.id}"
        if usable and session is not None:  # signed in already; only consent is asked
            sign_in.session_id = session.id
            sign_in.nin = session.nin
            path += "/consent"
        with self.memory.locked():
            self.memory.sign_ins[sign_in.id] = sign_in
        return Redirect(self.url(path), browser=new_browser)

    def _session_serves(
        self, session: Session, request: AuthorizationRequest, now: dt.datetime
    ) -> bool:
        if "login" in request.prompt:
            return False
        if (
            request.max_age is not None
            and (now - session.auth_time).total_seconds() > request.max_age
        ):
            return False
        return acr_satisfies(
            session.acr, request.acr_target, request.acr_acceptable, strict=request.acr_strict
        )

    def _headless_citizen(self, request: AuthorizationRequest) -> str | None:
        if not self.config.headless_login or not request.login_hint:
            return None
        nin = nin_normalise(request.login_hint)
        return nin if nin in self.citizens else None

    def _authenticated(
        self, *, browser: str | None, nin: str, acr: str, now: dt.datetime
    ) -> tuple[Session, str]:
        """Record a sign-in just performed; the session and the new browser id (rotated, so a
        browser id known before sign-in is worth nothing after it)."""
        ended: Session | None = None
        with self.memory.locked():
            session = self.memory.session_of_browser(browser, now)
            if session is not None and session.nin == nin:
                session.auth_time, session.acr, session.amr = now, acr, AMR[acr]
                session.expires_at = now + dt.timedelta(seconds=self.config.session_ttl)
            else:
                if session is not None:  # another citizen was signed in here: they leave
                    ended = self.memory.sessions.pop(session.id, None)
                session = Session(
                    id=token_new(),
                    nin=nin,
                    auth_time=now,
                    acr=acr,
                    amr=AMR[acr],
                    expires_at=now + dt.timedelta(seconds=self.config.session_ttl),
                )
                self.memory.sessions[session.id] = session
            if browser is not None:
                self.memory.browsers.pop(browser, None)
            new_browser = token_new()
            self.memory.browsers[new_browser] = session.id
        if ended is not None:
            self._backchannel(ended)
        return session, new_browser

    def _code_redirect(
        self,
        request: AuthorizationRequest,
        session: Session,
        allowed: frozenset[str] | None,
        now: dt.datetime,
    ) -> str:
        code = token_new()
        grant = CodeGrant(
            client_id=request.client.client_id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            nonce=request.nonce,
            session_id=session.id,
            nin=session.nin,
            scope=request.scope,
            request=request,
            allowed_claims=allowed,
            auth_time=session.auth_time,
            acr=session.acr,
            amr=session.amr,
            expires_at=now + dt.timedelta(seconds=self.config.code_ttl),
        )
        with self.memory.locked():
            self.memory.codes[code] = grant
            session.clients.add(request.client.client_id)
        return self._response_url(request.redirect_uri, {"code": code, "state": request.state})

    # ----- sign-in pages

    def sign_in(self, sign_in_id: str, browser: str | None) -> SignIn | None:
        """The sign-in under way in this browser, or None (unknown, expired, or another's)."""
        with self.memory.locked():
            sign_in = self.memory.sign_ins.get(sign_in_id)
        if sign_in is None or sign_in.expires_at <= self.now():
            return None
        if browser is None or not hmac.compare_digest(sign_in.browser, browser):
            return None
        return sign_in

    def sign_in_cancel(self, sign_in: SignIn) -> Redirect:
        """The citizen pressed "cancel": `access_denied` goes back to the client."""
        self._sign_in_close(sign_in)
        request = sign_in.request
        return Redirect(
            self._error_url(
                request.redirect_uri, request.state, "access_denied", "the citizen cancelled"
            )
        )

    def _sign_in_close(self, sign_in: SignIn) -> None:
        with self.memory.locked():
            self.memory.sign_ins.pop(sign_in.id, None)

    def _address_blocked(self, address: str, now: dt.datetime) -> bool:
        window = dt.timedelta(seconds=self.config.address_window_seconds)
        with self.memory.locked():
            failures = self.memory.address_failures.get(address)
            if failures is None:
                return False
            while failures and failures[0] <= now - window:
                failures.popleft()
            return len(failures) >= self.config.max_address_attempts

    def _nin_locked(self, nin: str, now: dt.datetime) -> bool:
        with self.memory.locked():
            attempts = self.memory.nin_attempts.get(nin)
            if attempts is None or attempts.locked_until is None:
                return False
            if attempts.locked_until <= now:  # the lock has run out: a clean slate
                del self.memory.nin_attempts[nin]
                return False
            return True

    def _failure(self, nin: str | None, address: str, now: dt.datetime) -> int:
        """Count a wrong answer against the address (and the NIN); the attempts left."""
        with self.memory.locked():
            self.memory.address_failures.setdefault(address, deque()).append(now)
            if nin is None:
                return self.config.max_code_attempts
            attempts = self.memory.nin_attempts.setdefault(nin, Attempts())
            attempts.failures += 1
            left = self.config.max_code_attempts - attempts.failures
            if left <= 0:
                attempts.locked_until = now + dt.timedelta(seconds=self.config.lockout_seconds)
                logger.warning("NIN ref %s locked after wrong answers", self.nin_ref(nin))
            return max(left, 0)

    def _success(self, nin: str) -> None:
        with self.memory.locked():
            self.memory.nin_attempts.pop(nin, None)

    def nin_submit(
        self, sign_in: SignIn, *, nin_typed: str, birthdate_typed: str, address: str
    ) -> StepResult:
        """The first page: the NIN (and, at the low level, the date of birth)."""
        now = self.now()
        if self._address_blocked(address, now):
            return StepResult(locked="address")
        if not nin_typed.strip():
            return StepResult(errors={"nin": ("nin_missing", {})})
        nin = nin_normalise(nin_typed)
        if nin is None:
            return StepResult(errors={"nin": ("nin_format", {})})
        citizen = self.citizens.get(nin)
        if citizen is None:
            self._failure(None, address, now)
            return StepResult(errors={"nin": ("nin_unknown", {})})
        if self._nin_locked(nin, now):
            return StepResult(locked="nin")
        sign_in.nin = nin
        if sign_in.request.acr_target != ACR_LOW:
            self._code_send(sign_in, citizen, now)
            return StepResult(redirect=Redirect(self.url(f"/signin/{sign_in.id}/code")))
        typed = birthdate_typed.strip()
        if not typed:
            return StepResult(errors={"birthdate": ("birthdate_missing", {})})
        try:
            birthdate = dt.date.fromisoformat(typed)
        except ValueError:
            return StepResult(errors={"birthdate": ("birthdate_format", {})})
        if birthdate != citizen.birthdate:
            left = self._failure(nin, address, now)
            if left == 0:
                return StepResult(locked="nin")
            return StepResult(errors={"birthdate": ("birthdate_wrong", {"left": left})})
        return StepResult(redirect=self._sign_in_authenticated(sign_in, nin, ACR_LOW, now))

    def _code_send(self, sign_in: SignIn, citizen: Citizen, now: dt.datetime) -> None:
        sign_in.code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        sign_in.code_expires_at = now + dt.timedelta(seconds=self.config.otp_ttl)
        if self.config.otp_echo:
            # The console stands in for the SMS gateway; the phone is shown masked.
            print(
                f"[NIDA sandbox] one-time code for {citizen.phone_masked}: {sign_in.code}",
                flush=True,
            )

    def code_submit(
        self, sign_in: SignIn, *, code_typed: str, pin_typed: str, address: str
    ) -> StepResult:
        """The second page: the one-time code (and, at the high level, the PIN)."""
        now = self.now()
        nin = sign_in.nin
        assert nin is not None
        citizen = self.citizens[nin]
        if self._address_blocked(address, now):
            return StepResult(locked="address")
        if self._nin_locked(nin, now):
            return StepResult(locked="nin")
        high = sign_in.request.acr_target == ACR_HIGH
        code = "".join(code_typed.split())
        pin = pin_typed.strip()
        errors: dict[str, Message] = {}
        if not code:
            errors["code"] = ("code_missing", {})
        if high and not pin:
            errors["pin"] = ("pin_missing", {})
        if errors:
            return StepResult(errors=errors)
        if sign_in.code_expires_at is None or sign_in.code_expires_at <= now:
            self._code_send(sign_in, citizen, now)
            return StepResult(errors={"code": ("code_expired", {})})
        assert sign_in.code is not None
        code_ok = hmac.compare_digest(code.encode(), sign_in.code.encode())
        pin_ok = not high or hmac.compare_digest(pin.encode(), citizen.pin.encode())
        if not (code_ok and pin_ok):
            left = self._failure(nin, address, now)
            if left == 0:
                return StepResult(locked="nin")
            key = "code_wrong" if not code_ok else "pin_wrong"
            return StepResult(errors={"code" if not code_ok else "pin": (key, {"left": left})})
        return StepResult(
            redirect=self._sign_in_authenticated(sign_in, nin, sign_in.request.acr_target, now)
        )

    def _sign_in_authenticated(
        self, sign_in: SignIn, nin: str, acr: str, now: dt.datetime
    ) -> Redirect:
        self._success(nin)
        session, browser = self._authenticated(browser=sign_in.browser, nin=nin, acr=acr, now=now)
        logger.info("sign-in of NIN ref %s at %s", self.nin_ref(nin), acr)
        sign_in.code = None
        sign_in.session_id = session.id
        sign_in.browser = browser
        if "consent" in sign_in.request.prompt:
            return Redirect(self.url(f"/signin/{sign_in.id}/consent"), browser=browser)
        self._sign_in_close(sign_in)
        return Redirect(self._code_redirect(sign_in.request, session, None, now), browser=browser)

    def consent_claims(self, sign_in: SignIn) -> tuple[list[str], list[str]]:
        """The attributes asked for: (essential, voluntary)."""
        requested = sign_in.request.requested_claims()
        essential = sign_in.request.essential_claims()
        return (
            [name for name in requested if name in essential],
            [name for name in requested if name not in essential],
        )

    def consent_submit(self, sign_in: SignIn, allowed: Sequence[str]) -> Redirect | None:
        """The citizen allowed sharing: essential attributes plus the voluntary ones ticked.
        None when the sign-in's session has gone (signed out meanwhile)."""
        now = self.now()
        with self.memory.locked():
            session = self.memory.sessions.get(sign_in.session_id or "")
        if session is None or session.expires_at <= now:
            return None
        essential, voluntary = self.consent_claims(sign_in)
        chosen = frozenset(essential) | (frozenset(allowed) & frozenset(voluntary))
        self._sign_in_close(sign_in)
        return Redirect(self._code_redirect(sign_in.request, session, chosen, now))

    # ----- tokens

    def token(
        self, form: Sequence[tuple[str, str]], authorization: str | None, content_type: str
    ) -> TokenResponse:
        """The token endpoint: authenticate the client, redeem the code once."""
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
                raise OAuthError("invalid_request", "send the form as x-www-form-urlencoded")
            values: dict[str, str] = {}
            for name, value in form:
                if name in values:
                    raise OAuthError("invalid_request", f"{name} is repeated")
                values[name] = value
            try:
                client = self.authenticator.authenticate(
                    form=values, authorization=authorization, token_endpoint=self.token_endpoint
                )
            except ClientAuthError as error:
                logger.info("token request: invalid_client: %s", error.description)
                if error.basic:
                    headers["WWW-Authenticate"] = 'Basic realm="nida-sandbox"'
                raise OAuthError("invalid_client", error.description, 401) from error
            body = self._code_redeem(client, values)
        except OAuthError as error:
            return TokenResponse(
                error.status,
                {"error": error.error, "error_description": error.description},
                headers,
            )
        return TokenResponse(200, body, headers)

    def _code_redeem(self, client: ClientRegistration, values: Mapping[str, str]) -> dict[str, Any]:
        grant_type = values.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != "authorization_code":
            raise OAuthError("unsupported_grant_type", "only authorization_code is supported")
        code = values.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is required")
        now = self.now()
        with self.memory.locked():
            grant = self.memory.codes.get(code)
            if grant is None or grant.client_id != client.client_id:
                raise OAuthError("invalid_grant", "unknown code")
            if grant.used:
                # A code seen twice was stolen or replayed: what it bought is withdrawn.
                for token in grant.access_tokens:
                    self.memory.access_tokens.pop(token, None)
                logger.warning("code replayed by client %s; its tokens revoked", client.client_id)
                raise OAuthError("invalid_grant", "code already used; its tokens are revoked")
            grant.used = True
        if grant.expires_at <= now:
            raise OAuthError("invalid_grant", "code expired")
        if values.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization's")
        if not pkce_verify(grant.code_challenge, values.get("code_verifier")):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        access_token = token_new()
        expires_in = self.config.access_token_ttl
        access = AccessGrant(
            client_id=client.client_id,
            nin=grant.nin,
            session_id=grant.session_id,
            scope=grant.scope,
            request=grant.request,
            allowed_claims=grant.allowed_claims,
            expires_at=now + dt.timedelta(seconds=expires_in),
        )
        with self.memory.locked():
            self.memory.access_tokens[access_token] = access
            grant.access_tokens.append(access_token)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": " ".join(grant.scope),
            "id_token": self._id_token(client, grant, access_token, now),
        }

    def _user_claims(
        self, nin: str, names: Sequence[str], allowed: frozenset[str] | None
    ) -> dict[str, Any]:
        citizen = self.citizens[nin]
        values: dict[str, Any] = {
            "nin": citizen.nin,
            "name": citizen.name,
            "given_name": citizen.given_name,
            "family_name": citizen.family_name,
            "birthdate": citizen.birthdate.isoformat(),
            "phone_number": citizen.phone_number,
            "address": {"region": citizen.region, "country": "TZ"},
        }
        return {
            name: values[name]
            for name in names
            if name in values and (allowed is None or name in allowed)
        }

    def subject(self, client: ClientRegistration, nin: str) -> str:
        return pairwise_subject(secret=self.config.pairwise_secret, sector=client.sector, nin=nin)

    def _sign(self, claims: Mapping[str, Any], *, typ: str, key: ECKey | None = None) -> str:
        key = key or self.keys.active
        header = {"alg": SIGNING_ALG, "kid": key.kid, "typ": typ}
        return jwt.encode(header, dict(claims), key, algorithms=[SIGNING_ALG])

    def _id_token(
        self, client: ClientRegistration, grant: CodeGrant, access_token: str, now: dt.datetime
    ) -> str:
        faults = self.faults
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "iss": WRONG_ISSUER if faults.id_token_wrong_iss else self.issuer,
            "sub": self.subject(client, grant.nin),
            "aud": WRONG_AUDIENCE if faults.id_token_wrong_aud else client.client_id,
            "iat": issued,
            "exp": issued + self.config.id_token_ttl,
            "auth_time": int(grant.auth_time.timestamp()),
            "nonce": token_new() if faults.id_token_wrong_nonce else grant.nonce,
            "acr": faults.acr or grant.acr,
            "amr": list(grant.amr),
            "sid": grant.session_id,
            "at_hash": token_hash(access_token),
        }
        if faults.id_token_expired:
            claims["iat"] = issued - 2 * self.config.id_token_ttl
            claims["exp"] = issued - self.config.id_token_ttl
        claims.update(
            self._user_claims(grant.nin, list(grant.request.claims.id_token), grant.allowed_claims)
        )
        key = self.keys.stray if faults.id_token_unknown_kid else None
        return self._sign(claims, typ="JWT", key=key)

    def userinfo(self, authorization: str | None) -> tuple[int, Any, dict[str, str]]:
        """(status, body, headers): JSON claims, a signed JWT (string) for clients registered
        with `userinfo_signed`, or a Bearer error."""
        headers = {"Cache-Control": "no-store"}
        token = None
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        if not token:
            headers["WWW-Authenticate"] = 'Bearer realm="nida-sandbox"'
            return (
                401,
                {"error": "invalid_request", "error_description": "no access token"},
                headers,
            )
        now = self.now()
        with self.memory.locked():
            access = self.memory.access_tokens.get(token)
        if access is None or access.expires_at <= now:
            headers["WWW-Authenticate"] = (
                'Bearer realm="nida-sandbox", error="invalid_token",'
                ' error_description="the access token is unknown, expired or revoked"'
            )
            return 401, {"error": "invalid_token"}, headers
        client = self.config.client(access.client_id)
        assert client is not None
        names = set(access.request.claims.userinfo)
        for scope in access.scope:
            names.update(SCOPE_CLAIMS.get(scope, ()))
        ordered = [name for name in USER_CLAIMS if name in names]
        claims: dict[str, Any] = {"sub": self.subject(client, access.nin)}
        if self.faults.userinfo_wrong_sub:
            claims["sub"] = token_new()
        claims.update(self._user_claims(access.nin, ordered, access.allowed_claims))
        if not client.userinfo_signed:
            return 200, claims, headers
        issued = int(now.timestamp())
        signed = {"iss": self.issuer, "aud": client.client_id, "iat": issued, **claims}
        headers["Content-Type"] = "application/jwt"
        return 200, self._sign(signed, typ="JWT"), headers

    # ----- logout

    def _id_token_hint(self, hint: str) -> dict[str, Any] | None:
        """The claims of an ID token this provider issued (expired ones too), or None."""
        try:
            token = jwt.decode(hint, self.keys.key_set(), algorithms=[SIGNING_ALG])
        except (JoseError, ValueError):
            return None
        if token.claims.get("iss") != self.issuer:
            return None
        return token.claims

    def end_session(
        self, params: Mapping[str, str], browser: str | None, choice: str | None
    ) -> EndSessionResult:
        """RP-initiated logout. With a valid `id_token_hint` the session it names ends at once;
        without one the citizen is asked first (`choice` is their answer: "logout" or "stay")."""
        hint = params.get("id_token_hint")
        client_id = params.get("client_id")
        redirect_uri = params.get("post_logout_redirect_uri")
        state = params.get("state")
        claims = None
        if hint:
            claims = self._id_token_hint(hint)
            if claims is None:
                return EndSessionResult(problem=Problem("id_token_hint is not an ID token of ours"))
            audiences = claims.get("aud")
            audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
            if client_id is not None and client_id not in audiences:
                return EndSessionResult(problem=Problem("client_id is not the hint's audience"))
            client_id = client_id or next(
                (a for a in audiences if self.config.client(str(a))), None
            )
        client = self.config.client(client_id) if client_id else None
        if client_id and client is None:
            return EndSessionResult(problem=Problem("unknown client_id"))
        if redirect_uri is not None:
            if client is None:
                return EndSessionResult(
                    problem=Problem("post_logout_redirect_uri needs id_token_hint or client_id")
                )
            if redirect_uri not in client.post_logout_redirect_uris:
                return EndSessionResult(
                    problem=Problem("post_logout_redirect_uri is not registered (exact match)")
                )
        now = self.now()
        session = None
        if claims is not None:
            with self.memory.locked():
                session = self.memory.sessions.get(str(claims.get("sid", "")))
        elif choice is None:
            session = self.memory.session_of_browser(browser, now)
            if session is not None:
                return EndSessionResult(
                    page="confirm",
                    client=client,
                    post_logout_redirect_uri=redirect_uri,
                    state=state,
                )
        elif choice == "logout":
            session = self.memory.session_of_browser(browser, now)
        if session is not None:
            self._session_end(session)
        page = "stayed" if choice == "stay" else "logged_out"
        if redirect_uri is not None:
            return EndSessionResult(
                redirect=Redirect(url_with_query(redirect_uri, {"state": state or None}))
            )
        return EndSessionResult(page=page, client=client)

    def _session_end(self, session: Session) -> None:
        with self.memory.locked():
            self.memory.sessions.pop(session.id, None)
            for browser in [b for b, s in self.memory.browsers.items() if s == session.id]:
                del self.memory.browsers[browser]
            for token in [
                t for t, a in self.memory.access_tokens.items() if a.session_id == session.id
            ]:
                del self.memory.access_tokens[token]
        logger.info("session ended for NIN ref %s", self.nin_ref(session.nin))
        self._backchannel(session)

    def _backchannel(self, session: Session) -> None:
        """Tell every client that served this session, and asked to be told, that it ended."""
        for client_id in sorted(session.clients):
            client = self.config.client(client_id)
            if client is None or not client.backchannel_logout_uri:
                continue
            issued = int(self.now().timestamp())
            token = self._sign(
                {
                    "iss": self.issuer,
                    "aud": client.client_id,
                    "iat": issued,
                    "exp": issued + LOGOUT_TOKEN_TTL,
                    "jti": token_new(),
                    "sid": session.id,
                    "sub": self.subject(client, session.nin),
                    "events": {BACKCHANNEL_EVENT: {}},
                },
                typ=LOGOUT_TOKEN_TYPE,
            )
            backchannel_send(
                client_id=client.client_id,
                uri=client.backchannel_logout_uri,
                logout_token=token,
                timeout=self.config.backchannel_timeout,
            )

    # ----- dev controls

    def faults_set(self, values: Mapping[str, Any]) -> IdpFaults:
        """Replace the injected faults (unknown names are refused with TypeError/ValueError)."""
        self.faults = IdpFaults(**values)
        return self.faults

    def faults_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self.faults)
