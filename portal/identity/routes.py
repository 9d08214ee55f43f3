"""Sign in with the NIN, sign out, back-channel logout, the account page and our public JWKS.

`/ingia` starts the code flow and keeps the transaction on the server, bound to this browser;
`/ingia/mwisho` is the callback; `/toka` signs out here and at the provider. Every failure ends
on a page that says what happened and what to do, with no token, code or NIN in any URL.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from portal.db import DbSession
from portal.identity import selectors, services
from portal.identity.assurance import ACR, Level, acr_satisfies
from portal.identity.attributes import attributes_from_claims
from portal.identity.dependencies import (
    SESSION_COOKIE,
    SignedIn,
    Visitor,
    public_endpoint,
    require_permission,
)
from portal.identity.nin import nin_birth_date_plausible, nin_normalise
from portal.identity.oidc import (
    InvalidResponse,
    OidcError,
    ProviderRefused,
    ProviderUnavailable,
    RelyingParty,
    state_new,
    transaction_dump,
    transaction_load,
)
from portal.web.csrf import csrf_cookie_set, visitor_id, visitor_renew
from portal.web.forms import redirect_after_post
from portal.web.i18n import locale_for
from portal.web.paths import PATH_MAX, local_path_or_home
from portal.web.ratelimit import rate_limit
from portal.web.templating import render

logger = logging.getLogger("portal.identity")
router = APIRouter(include_in_schema=False)
LIMITED = Depends(rate_limit("sign_in"))

# What we ask for, from userinfo (the ID token carries no attributes): the NIN and the name,
# and what a hand-off to an institution may share (see portal.identity.attributes).
CLAIMS = {
    "userinfo": {
        "nin": {"essential": True},
        "name": {"essential": True},
        "given_name": None,
        "family_name": None,
        "birthdate": None,
        "phone_number": None,
    }
}
# Provider errors a person causes or can fix, each with its own page; any other is "failed".
REFUSALS = {"access_denied", "login_required", "consent_required", "interaction_required"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _relying_party(request: Request) -> RelyingParty | None:
    rp: RelyingParty | None = request.app.state.relying_party
    return rp


def _problem(request: Request, problem: str, *, status: int, return_to: str = "/") -> HTMLResponse:
    """The page for a sign-in that did not happen: what went wrong and what to do next."""
    context = {"problem": problem, "return_to": return_to}
    return render(request, "identity/problem.html", context, status=status)


def _cookie_secure(request: Request) -> bool:
    return str(request.app.state.settings.base_url).startswith("https://")


@router.get("/ingia", dependencies=[require_permission("identity.sign_in"), LIMITED])
def sign_in(
    request: Request,
    session: DbSession,
    rudi: Annotated[str, Query(max_length=PATH_MAX)] = "/",
    kiwango: Level = "substantial",
) -> Response:
    """Start signing in at the level of assurance asked for; come back to `rudi` after. A
    person already signed in at that level or above goes straight back; one signed in lower
    signs in again at it (step-up)."""
    return_to = local_path_or_home(rudi)
    current: Visitor | None = request.state.visitor
    if current is not None and acr_satisfies(current.web_session.acr, kiwango):
        return RedirectResponse(return_to, status_code=303)
    rp = _relying_party(request)
    if rp is None:
        return _problem(request, "not_configured", status=503, return_to=return_to)
    try:
        url, transaction = rp.authorization_request(
            acr=ACR[kiwango], claims=CLAIMS, ui_locales=locale_for(request)
        )
    except ProviderUnavailable as error:
        logger.warning("sign-in: the provider cannot be reached: %s", error)
        return _problem(request, "unavailable", status=503, return_to=return_to)
    services.transaction_store(
        session=session,
        state=transaction.state,
        kind="sign_in",
        visitor=visitor_id(request),
        payload=transaction_dump(transaction),
        return_to=return_to,
        now=_now(),
    )
    response = RedirectResponse(url, status_code=303)
    csrf_cookie_set(request, response)  # a first visit: the callback must find this browser
    return response


@router.get("/ingia/mwisho", dependencies=[LIMITED])
def sign_in_callback(request: Request, session: DbSession) -> Response:
    """The provider sends the person back here, with a code or an error."""
    rp = _relying_party(request)
    if rp is None:
        return _problem(request, "not_configured", status=503)
    now = _now()
    params = {key: value for key, value in request.query_params.items() if len(value) <= 4096}
    row = services.transaction_take(
        session=session,
        state=params.get("state", ""),
        kind="sign_in",
        visitor=visitor_id(request),
        now=now,
    )
    if row is None:  # unknown, used, expired, or from another browser
        services.event_record(session=session, kind="sign_in_failed", reason="state", now=now)
        return _problem(request, "expired", status=400)
    try:
        result = rp.callback(params, transaction_load(row.payload))
    except ProviderRefused as refusal:
        services.event_record(
            session=session, kind="sign_in_failed", reason=refusal.code[:60], now=now
        )
        problem = refusal.code if refusal.code in REFUSALS else "failed"
        return _problem(request, problem, status=400, return_to=row.return_to)
    except ProviderUnavailable as error:
        logger.warning("sign-in: the provider cannot be reached: %s", error)
        services.event_record(session=session, kind="sign_in_failed", reason="unavailable", now=now)
        return _problem(request, "unavailable", status=503, return_to=row.return_to)
    except InvalidResponse as error:
        logger.warning("sign-in: the provider's answer was refused: %s", error.reason)
        services.event_record(
            session=session, kind="sign_in_failed", reason=error.reason[:60], now=now
        )
        return _problem(request, "failed", status=400, return_to=row.return_to)
    settings = request.app.state.settings.identity
    nin_digest = _nin_digest(result.claims.get("nin"), settings.nin_key.get_secret_value())
    user = services.user_signed_in(
        session=session,
        issuer=rp.issuer,
        sub=result.sub,
        name=str(result.claims.get("name") or ""),
        nin_digest=nin_digest,
        now=now,
    )
    current: Visitor | None = request.state.visitor
    if current is not None:  # a new session id at every sign-in
        services.session_end(session=session, web_session=current.web_session)
    token = services.session_start(
        session=session,
        user=user,
        acr=result.acr,
        id_token=result.id_token,
        provider_sid=result.sid,
        attributes=attributes_from_claims(result.claims),
        now=now,
        lifetime=dt.timedelta(hours=settings.session_hours),
    )
    services.event_record(session=session, kind="sign_in", sub=result.sub, now=now)
    response = RedirectResponse(row.return_to, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request),
        path="/",
    )
    visitor_renew(request)  # and a new CSRF identity, so nothing planted before follows in
    csrf_cookie_set(request, response)
    return response


def _nin_digest(claim: Any, key: str) -> str | None:
    """The keyed hash of the NIN claim, or None when the provider sent none we can read."""
    if not isinstance(claim, str):
        return None
    try:
        nin = nin_normalise(claim)
    except ValueError:
        return None
    if not nin_birth_date_plausible(nin):  # a soft check: such records exist; never refused
        logger.warning("sign-in: a NIN whose first eight digits are not a birth date")
    return services.nin_hash(nin=nin, key=key)


@router.post("/toka", dependencies=[require_permission("identity.sign_out"), LIMITED])
def sign_out(request: Request, session: DbSession, visitor: SignedIn) -> Response:
    """End the session here, then at the provider, which sends the person back to us."""
    now = _now()
    services.session_end(session=session, web_session=visitor.web_session)
    services.event_record(session=session, kind="sign_out", sub=visitor.user.sub, now=now)
    rp = _relying_party(request)
    location = "/toka/mwisho"
    if rp is not None and rp.can_sign_out:
        transaction_state = state_new()
        services.transaction_store(
            session=session,
            state=transaction_state,
            kind="sign_out",
            visitor=visitor_id(request),
            payload="",
            return_to="/",
            now=now,
        )
        location = rp.logout_url(
            id_token_hint=visitor.web_session.id_token, state=transaction_state
        )
    response = redirect_after_post(location)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/toka/mwisho", response_class=HTMLResponse, dependencies=[LIMITED])
def signed_out(request: Request, session: DbSession, state: str = "") -> HTMLResponse:
    """Where the provider sends the person after signing out there too."""
    confirmed = state and services.transaction_take(
        session=session, state=state, kind="sign_out", visitor=visitor_id(request), now=_now()
    )
    context = {"confirmed": bool(confirmed) or not state}
    response = render(request, "identity/signed_out.html", context)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post(
    "/ingia/backchannel",
    dependencies=[public_endpoint("the provider signs its logout tokens")],
)
def backchannel_logout(
    request: Request, session: DbSession, logout_token: Annotated[str, Form(max_length=8000)] = ""
) -> Response:
    """The provider tells us a person signed out there: end their sessions here."""
    no_store = {"Cache-Control": "no-store"}
    rp = _relying_party(request)
    now = _now()
    try:
        if rp is None:
            raise InvalidResponse("not_configured", part="logout_token")
        claims = rp.logout_token_validate(logout_token)
    except OidcError as error:
        services.event_record(
            session=session, kind="backchannel_failed", reason=error.reason[:60], now=now
        )
        return JSONResponse({"error": "invalid_request"}, status_code=400, headers=no_store)
    if not services.logout_token_first_use(
        session=session, jti=claims.jti, expires_at=claims.expires_at, now=now
    ):
        services.event_record(session=session, kind="backchannel_failed", reason="jti", now=now)
        return JSONResponse({"error": "invalid_request"}, status_code=400, headers=no_store)
    ended = services.sessions_end_from_provider(
        session=session, issuer=rp.issuer, sub=claims.sub, sid=claims.sid
    )
    services.event_record(
        session=session, kind="backchannel_logout", sub=claims.sub, reason=f"{ended}", now=now
    )
    return Response(status_code=200, headers=no_store)


@router.get("/akaunti", response_class=HTMLResponse)
def account(request: Request, session: DbSession, visitor: SignedIn) -> HTMLResponse:
    """What Mlango holds about the person, and where they are signed in."""
    assert visitor.user.id is not None
    context = {
        "visitor": visitor,
        "sessions": selectors.sessions_of(session=session, user_id=visitor.user.id),
        "grants": selectors.grants_of(session=session, user=visitor.user),
    }
    return render(request, "identity/account.html", context)


@router.post("/akaunti/toka-kote", dependencies=[require_permission("account.sessions_end")])
def sign_out_everywhere(request: Request, session: DbSession, visitor: SignedIn) -> Response:
    assert visitor.user.id is not None
    services.sessions_end_for_user(session=session, user_id=visitor.user.id)
    services.event_record(session=session, kind="sign_out_all", sub=visitor.user.sub, now=_now())
    response = redirect_after_post("/toka/mwisho")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/.well-known/jwks.json")
def client_jwks(request: Request) -> JSONResponse:
    """Our public keys, with which the provider checks our signed client assertions."""
    rp = _relying_party(request)
    keys = rp.public_jwks() if rp is not None else {"keys": []}
    return JSONResponse(keys, headers={"Cache-Control": "public, max-age=300"})
