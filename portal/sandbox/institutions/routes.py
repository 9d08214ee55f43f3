"""HTTP for a demo institution: the hand-off endpoint the bus forwards to, the launch link, the
citizen's application page and the back office. Thin routes over the store and the pusher.

Page routes are plain `def`s (run in the thread pool): a status push waits on the bus, and the
store is guarded by a lock. Bodies are read with a size limit before anything parses them.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from portal.bus.govesb.envelope import (
    MAX_ENVELOPE_BYTES,
    EnvelopeRejected,
    delivery_open,
    response,
)
from portal.sandbox.idp.text import LANGUAGES, language_pick
from portal.sandbox.institutions.config import InstitutionConfig
from portal.sandbox.institutions.forms import answers_check, answers_shown
from portal.sandbox.institutions.handoff import CITIZEN_ATTRIBUTES, hand_off
from portal.sandbox.institutions.pages import STYLESHEET, Pages
from portal.sandbox.institutions.pushes import StatusPusher
from portal.sandbox.institutions.store import Application, BrowserSession, InstitutionStore
from portal.sandbox.institutions.text import text
from portal.web.bodies import body_read

logger = logging.getLogger("portal.sandbox.institutions")

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 64
MAX_NOTE_LENGTH = 500
MAX_TOKEN_LENGTH = 128
# A refused envelope: 401 when it is not the bus's signature, 400 when it is not an envelope.
REJECTED_STATUS = {
    "too_large": 413,
    "malformed": 400,
    "incomplete": 400,
    "unsigned": 401,
    "bad_signature": 401,
}

router = APIRouter()


@dataclass(frozen=True)
class Institution:
    """What the routes of one institution work with (`app.state.institution`)."""

    config: InstitutionConfig
    store: InstitutionStore
    pusher: StatusPusher
    pages: Pages
    office_token: str  # the back office's CSRF token: the page has no sign-in to bind it to

    @property
    def cookie_name(self) -> str:
        return f"{self.config.slug}_kikao"


def institution_get(request: Request) -> Institution:
    institution: Institution = request.app.state.institution
    return institution


async def form_get(request: Request) -> dict[str, str]:
    """A URL-encoded form, the first value of each name; 413 or 400 when it cannot be read."""
    body = await body_read(request, MAX_FORM_BYTES)
    if body is None:
        raise HTTPException(status_code=413, detail="The form is larger than allowed.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(status_code=400, detail="The form cannot be read.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


InstitutionDep = Annotated[Institution, Depends(institution_get)]
Form = Annotated[dict[str, str], Depends(form_get)]


def _token_valid(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


# ----- the front page and the stylesheet


@router.get("/")
def index(request: Request, institution: InstitutionDep) -> Response:
    language = language_pick(request.query_params.get("lugha"))
    other = "en" if language == "sw" else "sw"
    return institution.pages.render(
        "index.html",
        language=language,
        title=text(language, "index_title"),
        switch_url=f"/?lugha={other}",
    )


@router.get("/static/institution.css")
def stylesheet() -> Response:
    return Response(
        STYLESHEET.read_bytes(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


# ----- the hand-off, from the bus


def _signed(
    institution: Institution,
    *,
    success: bool,
    esb_body: dict[str, object] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    body = response(
        success=success, key=institution.config.private_key, esb_body=esb_body, message=message
    )
    return Response(body, status_code=status, media_type="application/json")


def _hand_off_answer(institution: Institution, body: bytes, started: float) -> Response:
    try:
        delivery = delivery_open(body, institution.config.esb_public_key)
    except EnvelopeRejected as rejected:
        logger.warning("hand-off refused: %s envelope", rejected.reason)
        return _signed(
            institution,
            success=False,
            message=str(rejected),
            status=REJECTED_STATUS[rejected.reason],
        )
    answer, application = hand_off(delivery, config=institution.config, store=institution.store)
    logger.info(
        "hand-off %s %s: %s%s in %.0f ms",
        delivery.request_id,
        delivery.code,
        "success" if answer.success else answer.message,
        f" ({application.reference})" if application else "",
        (time.monotonic() - started) * 1000,
    )
    return _signed(
        institution, success=answer.success, esb_body=answer.esb_body, message=answer.message
    )


@router.post("/esb/hand-off")
async def esb_hand_off(request: Request, institution: InstitutionDep) -> Response:
    """Where the bus delivers the portal's hand-offs (the provider URL of each api code)."""
    started = time.monotonic()
    body = await body_read(request, MAX_ENVELOPE_BYTES)
    if body is None:
        logger.warning("hand-off refused: too_large envelope")
        rejected = EnvelopeRejected("too_large")
        return _signed(institution, success=False, message=str(rejected), status=413)
    return await run_in_threadpool(_hand_off_answer, institution, body, started)


# ----- the launch link, and the citizen's application


@router.get("/anza")
def launch(request: Request, institution: InstitutionDep) -> Response:
    """Redeem a one-time launch token: a session of this browser for its application."""
    token = request.query_params.get("tiketi", "")
    application = (
        institution.store.launch_redeem(token) if 0 < len(token) <= MAX_TOKEN_LENGTH else None
    )
    if application is None:
        logger.info("launch refused: expired, used or unknown token")
        return institution.pages.message("launch_invalid", status=400)
    session = institution.store.session_start(application)
    logger.info("launch of %s redeemed", application.reference)
    redirect = RedirectResponse(f"/maombi/{application.reference}", status_code=303)
    redirect.set_cookie(
        institution.cookie_name,
        session.id,
        max_age=institution.config.session_ttl,
        path=f"/maombi/{application.reference}",
        httponly=True,
        samesite="lax",
        secure=institution.config.base_url.startswith("https://"),
    )
    return redirect


def _application_page(
    institution: Institution,
    application: Application,
    session: BrowserSession,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    service = institution.config.service(application.api_code)
    assert service is not None
    language = session.language
    other = "en" if language == "sw" else "sw"
    return institution.pages.render(
        "application.html",
        language=language,
        title=text(language, "application_title", reference=application.reference),
        status=status,
        errors=errors,
        switch_url=f"/maombi/{application.reference}?lugha={other}",
        application=application,
        service=service,
        attributes=CITIZEN_ATTRIBUTES,
        values=values or {},
        answers=answers_shown(service, application.answers, language=language),
        csrf_token=session.csrf_token,
    )


def _session(
    request: Request, institution: Institution, reference: str, *, language: str | None = None
) -> tuple[BrowserSession, Application] | None:
    session = institution.store.session_find(
        request.cookies.get(institution.cookie_name), reference, language=language
    )
    application = institution.store.application_get(reference) if session else None
    return (session, application) if session and application else None


@router.get("/maombi/{reference}")
def application_view(reference: str, request: Request, institution: InstitutionDep) -> Response:
    """The application, for the browser that came with its launch link only."""
    language = request.query_params.get("lugha")
    found = _session(
        request, institution, reference, language=language if language in LANGUAGES else None
    )
    if found is None:
        return institution.pages.message("forbidden", status=403)
    session, application = found
    return _application_page(institution, application, session)


@router.post("/maombi/{reference}")
def application_send(
    reference: str, request: Request, institution: InstitutionDep, form: Form
) -> Response:
    """The citizen's form: checked, kept, and the application put in review."""
    found = _session(request, institution, reference)
    if found is None:
        return institution.pages.message("forbidden", status=403)
    session, application = found
    if not _token_valid(session.csrf_token, form.get("csrf_token")):
        return institution.pages.message("form_expired", status=403)
    page = RedirectResponse(f"/maombi/{reference}", status_code=303)
    if application.status != "received":
        return page
    service = institution.config.service(application.api_code)
    assert service is not None
    values, errors = answers_check(
        service, form, language=session.language, now=institution.config.clock()
    )
    if errors:
        return _application_page(
            institution, application, session, values=values, errors=errors, status=422
        )
    if institution.store.application_submit(reference, values):
        logger.info("application %s submitted", reference)
        institution.pusher.deliver(reference)
    return page


# ----- the back office (sandbox only: no sign-in)


@dataclass(frozen=True)
class OfficeRow:
    application: Application
    service_title: str
    applicant: str
    answers: list[tuple[str, str]]


def _office_page(
    institution: Institution,
    language: str,
    *,
    errors: dict[str, str] | None = None,
    notes: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rows = []
    for application in institution.store.applications():
        service = institution.config.service(application.api_code)
        assert service is not None
        names = (application.citizen.get("givenName"), application.citizen.get("familyName"))
        rows.append(
            OfficeRow(
                application=application,
                service_title=service.title.pick(language),
                applicant=" ".join(name for name in names if name) or "-",
                answers=answers_shown(service, application.answers, language=language),
            )
        )
    other = "en" if language == "sw" else "sw"
    return institution.pages.render(
        "office.html",
        language=language,
        title=text(language, "office_title"),
        status=status,
        errors=errors,
        switch_url=f"/ofisi?lugha={other}",
        rows=rows,
        notes=notes or {},
        csrf_token=institution.office_token,
    )


@router.get("/ofisi")
def office(request: Request, institution: InstitutionDep) -> Response:
    return _office_page(institution, language_pick(request.query_params.get("lugha")))


@router.post("/ofisi/{reference}/uamuzi")
def office_decide(reference: str, institution: InstitutionDep, form: Form) -> Response:
    """Approve or reject an application in review, with a note for the applicant."""
    language = language_pick(form.get("lugha"))
    if not _token_valid(institution.office_token, form.get("csrf_token")):
        return institution.pages.message("form_expired", status=403)
    if institution.store.application_get(reference) is None:
        return institution.pages.message("not_found", status=404)
    note = " ".join(form.get("note", "").split())
    decision = form.get("decision")
    errors: dict[str, str] = {}
    if decision not in ("approve", "reject"):
        errors[f"approve-{reference}"] = text(language, "office_decision_missing")
    if len(note) > MAX_NOTE_LENGTH:
        errors[f"note-{reference}"] = text(
            language, "office_note_too_long", max_length=MAX_NOTE_LENGTH
        )
    if errors:
        return _office_page(
            institution, language, errors=errors, notes={reference: note}, status=422
        )
    if not institution.store.application_decide(
        reference, approved=decision == "approve", note=note or None
    ):
        errors[f"case-{reference}"] = text(language, "office_not_open")
        return _office_page(institution, language, errors=errors, status=409)
    logger.info("application %s decided: %s", reference, decision)
    institution.pusher.deliver(reference)
    return RedirectResponse(f"/ofisi?lugha={language}", status_code=303)


@router.post("/ofisi/{reference}/tuma-tena")
def office_retry(reference: str, institution: InstitutionDep, form: Form) -> Response:
    """Send the application's undelivered status pushes now."""
    language = language_pick(form.get("lugha"))
    if not _token_valid(institution.office_token, form.get("csrf_token")):
        return institution.pages.message("form_expired", status=403)
    institution.store.push_retry_now(reference)
    institution.pusher.deliver(reference)
    return RedirectResponse(f"/ofisi?lugha={language}", status_code=303)
