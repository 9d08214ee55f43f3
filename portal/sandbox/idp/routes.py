"""HTTP for the sandbox provider: thin routes over `Provider`, pages rendered by `Pages`.

Routes are plain `def`s (run in the thread pool): some of them wait on other servers (a
client's `jwks_uri`, back-channel logout), and the provider's memory is guarded by a lock.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from portal.sandbox.idp.config import SandboxRefusedError
from portal.sandbox.idp.pages import STYLESHEET, Pages
from portal.sandbox.idp.protocol import ACR_HIGH, ACR_LOW, ACR_SUBSTANTIAL
from portal.sandbox.idp.provider import (
    EndSessionResult,
    Problem,
    Provider,
    Redirect,
    StepResult,
)
from portal.sandbox.idp.state import SignIn
from portal.sandbox.idp.text import LANGUAGES, language_pick, text

logger = logging.getLogger("portal.sandbox.idp")

BROWSER_COOKIE = "nida_sandbox_browser"
LEVEL_TEXT = {ACR_LOW: "level_low", ACR_SUBSTANTIAL: "level_substantial", ACR_HIGH: "level_high"}
MAX_FORM_FIELDS = 64

router = APIRouter()


def provider_get(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


def pages_get(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


async def params_get(request: Request) -> list[tuple[str, str]]:
    """The request's parameters: the query of a GET, the form of a POST."""
    if request.method != "POST":
        return list(request.query_params.multi_items())
    # An unreadable or oversized form is a 400 from Starlette itself.
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    return [(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)]


ProviderDep = Annotated[Provider, Depends(provider_get)]
PagesDep = Annotated[Pages, Depends(pages_get)]
Params = Annotated[list[tuple[str, str]], Depends(params_get)]


def _browser(request: Request) -> str | None:
    return request.cookies.get(BROWSER_COOKIE)


def _redirect(provider: Provider, target: Redirect, *, after_post: bool) -> RedirectResponse:
    response = RedirectResponse(target.url, status_code=303 if after_post else 302)
    if target.browser is not None:
        _cookie_set(provider, response, target.browser)
    return response


def _cookie_set(provider: Provider, response: Response, browser: str) -> None:
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        httponly=True,
        samesite="lax",
        secure=provider.issuer.startswith("https://"),
        path="/",
    )


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _first(params: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in params if k == name), None)


# ----- metadata and keys


@router.get("/.well-known/openid-configuration")
def discovery(provider: ProviderDep) -> JSONResponse:
    return JSONResponse(provider.discovery(), headers={"Cache-Control": "public, max-age=300"})


@router.get("/jwks.json")
def jwks(provider: ProviderDep) -> JSONResponse:
    return JSONResponse(
        provider.keys.jwks(),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/static/idp.css")
def stylesheet() -> Response:
    return Response(
        STYLESHEET.read_bytes(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


# ----- authorization


def _problem_page(request: Request, pages: Pages, problem: Problem, language: str) -> Response:
    return pages.render(
        request,
        "message.html",
        language=language,
        title_key="bad_request_title",
        status=problem.status,
        paragraphs=[
            text(language, "bad_request_text"),
            text(language, "bad_request_detail", detail=problem.detail),
        ],
    )


@router.api_route("/authorize", methods=["GET", "POST"])
def authorize(request: Request, params: Params, provider: ProviderDep, pages: PagesDep) -> Response:
    result = provider.authorize(params, _browser(request))
    if isinstance(result, Problem):
        language = language_pick(_first(params, "lang"), _first(params, "ui_locales"))
        return _problem_page(request, pages, result, language)
    return _redirect(provider, result, after_post=request.method == "POST")


# ----- sign-in pages


def _sign_in_or_page(
    request: Request, provider: Provider, pages: Pages, sign_in_id: str
) -> SignIn | Response:
    sign_in = provider.sign_in(sign_in_id, _browser(request))
    language = request.query_params.get("lang")
    if sign_in is None:
        return pages.render(
            request,
            "message.html",
            language=language_pick(language),
            title_key="expired_title",
            status=400,
            paragraphs=[text(language_pick(language), "expired_text")],
        )
    if language in LANGUAGES:
        sign_in.language = language
    return sign_in


def _form_value(params: list[tuple[str, str]], name: str) -> str:
    return _first(params, name) or ""


def _csrf_refused(request: Request, pages: Pages, language: str) -> Response:
    return pages.render(
        request,
        "message.html",
        language=language,
        title_key="form_expired_title",
        status=403,
        paragraphs=[text(language, "form_expired_text")],
    )


def _locked_page(
    request: Request, provider: Provider, pages: Pages, sign_in: SignIn, kind: str
) -> Response:
    config = provider.config
    seconds = config.lockout_seconds if kind == "nin" else config.address_window_seconds
    minutes = max(1, -(-seconds // 60))
    return pages.render(
        request,
        "locked.html",
        language=sign_in.language,
        title_key="locked_title",
        status=429,
        headers={"Retry-After": str(seconds)},
        message=text(sign_in.language, f"locked_{kind}", minutes=minutes),
        cancel_action=f"/signin/{sign_in.id}",
        csrf_token=provider.csrf_token(sign_in.browser, sign_in.id),
    )


def _step_answer(
    request: Request,
    provider: Provider,
    pages: Pages,
    sign_in: SignIn,
    result: StepResult,
    show_again: Any,
) -> Response:
    if result.redirect is not None:
        return _redirect(provider, result.redirect, after_post=True)
    if result.locked is not None:
        return _locked_page(request, provider, pages, sign_in, result.locked)
    errors = {
        name: text(sign_in.language, key, **values) for name, (key, values) in result.errors.items()
    }
    response: Response = show_again(errors)
    return response


def _nin_page(
    request: Request,
    provider: Provider,
    pages: Pages,
    sign_in: SignIn,
    *,
    errors: dict[str, str] | None = None,
    nin: str = "",
    birthdate: str = "",
) -> Response:
    target = sign_in.request.acr_target
    return pages.render(
        request,
        "sign_in_nin.html",
        language=sign_in.language,
        title_key="nin_title",
        status=422 if errors else 200,
        errors=errors,
        client_name=sign_in.request.client.display_name,
        level_text=LEVEL_TEXT[target],
        ask_birthdate=target == ACR_LOW,
        nin=nin,
        birthdate=birthdate,
        action=f"/signin/{sign_in.id}",
        csrf_token=provider.csrf_token(sign_in.browser, sign_in.id),
    )


def _posted_sign_in(
    request: Request,
    provider: Provider,
    pages: Pages,
    sign_in_id: str,
    params: list[tuple[str, str]],
) -> SignIn | Response:
    """What every sign-in page's POST checks first: the sign-in exists (else its page), the
    form is this browser's (else refused), and the citizen did not press cancel (else the
    client hears access_denied). Returns the sign-in, or the response to send instead."""
    found = _sign_in_or_page(request, provider, pages, sign_in_id)
    if isinstance(found, Response):
        return found
    if not provider.csrf_valid(found.browser, found.id, _first(params, "csrf_token")):
        return _csrf_refused(request, pages, found.language)
    if _first(params, "action") == "cancel":
        return _redirect(provider, provider.sign_in_cancel(found), after_post=True)
    return found


@router.get("/signin/{sign_in_id}")
def nin_form(request: Request, sign_in_id: str, provider: ProviderDep, pages: PagesDep) -> Response:
    found = _sign_in_or_page(request, provider, pages, sign_in_id)
    if isinstance(found, Response):
        return found
    if found.session_id is not None:  # already signed in within this sign-in
        return RedirectResponse(f"/signin/{found.id}/consent", status_code=303)
    return _nin_page(request, provider, pages, found)


@router.post("/signin/{sign_in_id}")
def nin_submit(
    request: Request, sign_in_id: str, params: Params, provider: ProviderDep, pages: PagesDep
) -> Response:
    posted = _posted_sign_in(request, provider, pages, sign_in_id, params)
    if isinstance(posted, Response):
        return posted
    sign_in = posted
    if sign_in.session_id is not None:
        return RedirectResponse(f"/signin/{sign_in.id}/consent", status_code=303)
    nin, birthdate = _form_value(params, "nin"), _form_value(params, "birthdate")
    result = provider.nin_submit(
        sign_in, nin_typed=nin, birthdate_typed=birthdate, address=_address(request)
    )
    return _step_answer(
        request,
        provider,
        pages,
        sign_in,
        result,
        lambda errors: _nin_page(
            request, provider, pages, sign_in, errors=errors, nin=nin, birthdate=birthdate
        ),
    )


def _code_page(
    request: Request,
    provider: Provider,
    pages: Pages,
    sign_in: SignIn,
    *,
    errors: dict[str, str] | None = None,
) -> Response:
    assert sign_in.nin is not None
    citizen = provider.citizens[sign_in.nin]
    return pages.render(
        request,
        "sign_in_code.html",
        language=sign_in.language,
        title_key="code_title",
        status=422 if errors else 200,
        errors=errors,
        banner_code=sign_in.code if provider.config.otp_echo else None,
        phone=citizen.phone_masked,
        minutes=max(1, provider.config.otp_ttl // 60),
        ask_pin=sign_in.request.acr_target == ACR_HIGH,
        action=f"/signin/{sign_in.id}/code",
        csrf_token=provider.csrf_token(sign_in.browser, sign_in.id),
    )


def _awaiting_code(sign_in: SignIn) -> bool:
    return sign_in.nin is not None and sign_in.code is not None and sign_in.session_id is None


@router.get("/signin/{sign_in_id}/code")
def code_form(
    request: Request, sign_in_id: str, provider: ProviderDep, pages: PagesDep
) -> Response:
    found = _sign_in_or_page(request, provider, pages, sign_in_id)
    if isinstance(found, Response):
        return found
    if not _awaiting_code(found):
        return RedirectResponse(f"/signin/{found.id}", status_code=303)
    return _code_page(request, provider, pages, found)


@router.post("/signin/{sign_in_id}/code")
def code_submit(
    request: Request, sign_in_id: str, params: Params, provider: ProviderDep, pages: PagesDep
) -> Response:
    posted = _posted_sign_in(request, provider, pages, sign_in_id, params)
    if isinstance(posted, Response):
        return posted
    sign_in = posted
    if not _awaiting_code(sign_in):
        return RedirectResponse(f"/signin/{sign_in.id}", status_code=303)
    result = provider.code_submit(
        sign_in,
        code_typed=_form_value(params, "code"),
        pin_typed=_form_value(params, "pin"),
        address=_address(request),
    )
    return _step_answer(
        request,
        provider,
        pages,
        sign_in,
        result,
        lambda errors: _code_page(request, provider, pages, sign_in, errors=errors),
    )


def _consent_page(request: Request, provider: Provider, pages: Pages, sign_in: SignIn) -> Response:
    essential, voluntary = provider.consent_claims(sign_in)
    return pages.render(
        request,
        "consent.html",
        language=sign_in.language,
        title_key="consent_title",
        client_name=sign_in.request.client.display_name,
        essential=essential,
        voluntary=voluntary,
        action=f"/signin/{sign_in.id}/consent",
        csrf_token=provider.csrf_token(sign_in.browser, sign_in.id),
    )


@router.get("/signin/{sign_in_id}/consent")
def consent_form(
    request: Request, sign_in_id: str, provider: ProviderDep, pages: PagesDep
) -> Response:
    found = _sign_in_or_page(request, provider, pages, sign_in_id)
    if isinstance(found, Response):
        return found
    if found.session_id is None:
        return RedirectResponse(f"/signin/{found.id}", status_code=303)
    return _consent_page(request, provider, pages, found)


@router.post("/signin/{sign_in_id}/consent")
def consent_submit(
    request: Request, sign_in_id: str, params: Params, provider: ProviderDep, pages: PagesDep
) -> Response:
    posted = _posted_sign_in(request, provider, pages, sign_in_id, params)
    if isinstance(posted, Response):
        return posted
    sign_in = posted
    if sign_in.session_id is None:
        return RedirectResponse(f"/signin/{sign_in.id}", status_code=303)
    allowed = [v for k, v in params if k == "allow"]
    target = provider.consent_submit(sign_in, allowed)
    if target is None:  # signed out meanwhile: start again
        return RedirectResponse(f"/signin/{sign_in.id}", status_code=303)
    return _redirect(provider, target, after_post=True)


# ----- tokens and userinfo


@router.post("/token")
def token(request: Request, params: Params, provider: ProviderDep) -> JSONResponse:
    result = provider.token(
        params,
        request.headers.get("authorization"),
        request.headers.get("content-type", ""),
    )
    return JSONResponse(result.body, status_code=result.status, headers=result.headers)


@router.api_route("/userinfo", methods=["GET", "POST"])
def userinfo(request: Request, provider: ProviderDep) -> Response:
    status, body, headers = provider.userinfo(request.headers.get("authorization"))
    if isinstance(body, str):
        content_type = headers.pop("Content-Type")
        return Response(body, status_code=status, media_type=content_type, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


# ----- logout

LOGOUT_FIELDS = ("client_id", "post_logout_redirect_uri", "state")
LOGOUT_PURPOSE = "logout"


@router.api_route("/logout", methods=["GET", "POST"])
def end_session(
    request: Request, params: Params, provider: ProviderDep, pages: PagesDep
) -> Response:
    values = dict(params)
    language = language_pick(values.get("lang"), values.get("ui_locales"))
    browser = _browser(request)
    choice = None
    if request.method == "POST" and "csrf_token" in values:  # the answer to our question
        if not provider.csrf_valid(browser, LOGOUT_PURPOSE, values["csrf_token"]):
            return _csrf_refused(request, pages, language)
        choice = "stay" if values.get("action") == "stay" else "logout"
    result: EndSessionResult = provider.end_session(values, browser, choice)
    if result.problem is not None:
        return _problem_page(request, pages, result.problem, language)
    if result.redirect is not None:
        return _redirect(provider, result.redirect, after_post=request.method == "POST")
    if result.page == "confirm":
        assert browser is not None
        hidden = {
            "client_id": result.client.client_id if result.client else None,
            "post_logout_redirect_uri": result.post_logout_redirect_uri,
            "state": result.state,
            "lang": language,
        }
        return pages.render(
            request,
            "logout_confirm.html",
            language=language,
            title_key="logout_title",
            hidden={k: v for k, v in hidden.items() if v},
            csrf_token=provider.csrf_token(browser, LOGOUT_PURPOSE),
        )
    title = "stayed_title" if result.page == "stayed" else "logged_out_title"
    return pages.render(
        request,
        "message.html",
        language=language,
        title_key=title,
        paragraphs=[text(language, "logged_out_text")],
    )


# ----- dev controls (the sandbox only ever runs in development or test)


@router.get("/dev/citizens")
def citizens(request: Request, provider: ProviderDep, pages: PagesDep) -> Response:
    language = language_pick(request.query_params.get("lang"))
    return pages.render(
        request,
        "citizens.html",
        language=language,
        title_key="citizens_title",
        citizens=sorted(provider.citizens.values(), key=lambda c: (c.family_name, c.given_name)),
    )


@router.post("/dev/rotate-keys")
def rotate_keys(provider: ProviderDep) -> JSONResponse:
    kid = provider.keys.rotate()
    logger.info("signing key rotated; now signing with kid %s", kid)
    return JSONResponse(
        {"active_kid": kid, "published_kids": [k.kid for k in provider.keys.published()]}
    )


@router.get("/dev/faults")
def faults_read(provider: ProviderDep) -> JSONResponse:
    return JSONResponse(provider.faults_dict())


@router.post("/dev/faults")
async def faults_write(request: Request, provider: ProviderDep) -> JSONResponse:
    """Replace the injected faults with the JSON object sent ({} turns them all off)."""
    try:
        values = json.loads(await request.body() or b"{}")
        if not isinstance(values, dict):
            raise TypeError("send a JSON object")
        provider.faults_set(values)
    except (ValueError, TypeError, SandboxRefusedError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse(provider.faults_dict())
