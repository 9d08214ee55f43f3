"""Starting a service through GovESB, the citizen's applications and receipts, inbound pushes.

"Anza huduma" asks for sign-in at the service's level of assurance, then a consent page names
the institution, the purpose and each attribute to be shared. On consent the hand-off is
committed under its idempotency key *before* the bus is called, so a double click or a retry
sends the same key and the institution opens one application at most.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from portal.bus import selectors, services
from portal.bus.govesb.client import BusError, GovesbClient
from portal.bus.govesb.envelope import MAX_ENVELOPE_BYTES, EnvelopeRejected, delivery_open, response
from portal.bus.schemas import HandOffAnswer, StartIn, StatusPush
from portal.catalogue.dependencies import ServiceFromSlug
from portal.catalogue.models import Service
from portal.db import DbSession
from portal.identity.attributes import ATTRIBUTES
from portal.identity.dependencies import (
    AssuranceCheck,
    SignedIn,
    Visitor,
    public_endpoint,
    require_permission,
)
from portal.web.bodies import body_read
from portal.web.forms import FORM_INVALID_STATUS, FormInput, form_blank, form_dependency
from portal.web.i18n import gettext, locale_for
from portal.web.ratelimit import rate_limit
from portal.web.templating import render

logger = logging.getLogger("portal.bus")
router = APIRouter(include_in_schema=False)
DELIVERY_PATH = "/govesb/taarifa"
NO_STORE = {"Cache-Control": "no-store"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _bus(request: Request) -> GovesbClient | None:
    client: GovesbClient | None = request.app.state.bus_client
    return client


def _startable(service: Service) -> Service:
    """The service, if it starts through GovESB and is open; else this page does not exist."""
    if service.launch_mode != "govesb" or not service.launch_api_code:
        raise HTTPException(status_code=404)
    if service.status != "active":
        raise HTTPException(status_code=404)
    return service


def _visitor_at_level(request: Request, service: Service) -> Visitor:
    """The person, signed in at the service's level; anyone else goes to sign in (again)."""
    return AssuranceCheck(service.launch_assurance)(request)  # type: ignore[arg-type]


def _shared(visitor: Visitor, service: Service) -> tuple[str, ...]:
    """What this hand-off shares: what the service needs of what the provider vouched for."""
    return tuple(
        name for name in ATTRIBUTES if name in service.launch_shares and name in visitor.attributes
    )


def _problem(
    request: Request, service: Service, problem: str, *, status: int, **context: Any
) -> HTMLResponse:
    page = {"service": service, "problem": problem, **context}
    return render(request, "bus/problem.html", page, status=status)


def _consent_page(
    request: Request, service: Service, visitor: Visitor, form_input: FormInput[Any]
) -> HTMLResponse:
    if "nin" not in visitor.attributes:  # a session from before attributes were kept
        query = urlencode({"rudi": request.url.path, "kiwango": service.launch_assurance})
        return _problem(request, service, "sign_in_again", status=200, sign_in=f"/ingia?{query}")
    status = FORM_INVALID_STATUS if form_input.errors else 200
    context = {
        "service": service,
        "attributes": _shared(visitor, service),
        "values": visitor.attributes,
        "form_input": form_input,
        "key": secrets.token_urlsafe(32),
    }
    return render(request, "bus/consent.html", context, status=status)


@router.get("/huduma/{slug}/anza", response_class=HTMLResponse)
def consent(request: Request, service: ServiceFromSlug) -> HTMLResponse:
    """What will be shared, with whom and why; nothing is sent until the person agrees."""
    service = _startable(service)
    visitor = _visitor_at_level(request, service)
    return _consent_page(request, service, visitor, form_blank())


@router.post(
    "/huduma/{slug}/anza",
    dependencies=[require_permission("bus.service_start"), Depends(rate_limit("service_start"))],
)
def service_start(
    request: Request,
    service: ServiceFromSlug,
    session: DbSession,
    form_input: Annotated[FormInput[StartIn], Depends(form_dependency(StartIn))],
) -> Response:
    """Send the hand-off, record the application and its receipt, go to the institution."""
    service = _startable(service)
    visitor = _visitor_at_level(request, service)
    client = _bus(request)
    if client is None:
        return _problem(request, service, "not_configured", status=503)
    if form_input.data is None or "nin" not in visitor.attributes:
        return _consent_page(request, service, visitor, form_input)
    assert visitor.user.id is not None
    assert service.launch_api_code
    key = form_input.data.key
    try:
        hand_off = services.hand_off_begin(
            session=session,
            user_id=visitor.user.id,
            service=service,
            key=key,
            attributes=_shared(visitor, service),
            locale=locale_for(request),
            now=_now(),
        )
    except services.HandOffRefused:
        return _consent_page(request, service, visitor, form_blank())
    session.commit()  # the key is taken before anything leaves: a second click finds it
    body = services.hand_off_body(
        hand_off=hand_off,
        service=service,
        attributes=visitor.attributes,
        purpose=gettext("To start the service: %(service)s")
        % {"service": service.name.get(locale_for(request)) or service.name["sw"]},
        return_url=str(request.app.state.settings.base_url).rstrip("/") + "/maombi",
    )
    started = time.perf_counter()
    try:
        reply = client.request(service.launch_api_code, body)
    except BusError as error:
        logger.warning("hand-off %s: the bus failed: %s", hand_off.id, error.reason)
        services.hand_off_failed(
            session=session,
            hand_off=hand_off,
            reason=error.reason,
            maybe_delivered=error.maybe_delivered,
            now=_now(),
        )
        problem = "unknown" if error.maybe_delivered else "unavailable"
        return _problem(request, service, problem, status=503, key=key)
    logger.info(
        "hand-off %s: %s answered %s in %d ms",
        hand_off.id,
        service.launch_api_code,
        "success" if reply.success else "failure",
        (time.perf_counter() - started) * 1000,
    )
    if not reply.success:
        services.hand_off_failed(
            session=session, hand_off=hand_off, reason="refused", maybe_delivered=False, now=_now()
        )
        return _problem(request, service, "refused", status=502, key=key)
    try:
        answer = HandOffAnswer.model_validate(reply.esb_body)
        application = services.application_record(
            session=session,
            hand_off=hand_off,
            service=service,
            answer=answer,
            request_id=reply.request_id or "",
            now=_now(),
        )
    except (ValidationError, services.HandOffRefused) as error:
        logger.warning("hand-off %s: the institution's answer was refused: %s", hand_off.id, error)
        services.hand_off_failed(
            session=session,
            hand_off=hand_off,
            reason="bad_answer",
            maybe_delivered=True,
            now=_now(),
        )
        return _problem(request, service, "unknown", status=502, key=key)
    if not _launch_allowed(request, answer.launch_url):
        logger.warning("hand-off %s: a launch URL outside MLANGO_BUS_LAUNCH_ORIGINS", hand_off.id)
        return _problem(
            request, service, "no_launch", status=502, application=application.public_id
        )
    assert answer.launch_url is not None
    return RedirectResponse(answer.launch_url, status_code=303, headers=NO_STORE)


def _launch_allowed(request: Request, url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin in request.app.state.settings.bus.launch_origin_list


@router.get("/maombi", response_class=HTMLResponse)
def applications(request: Request, session: DbSession, visitor: SignedIn) -> HTMLResponse:
    """ "Maombi yangu": every application the person started, across institutions."""
    assert visitor.user.id is not None
    rows = selectors.applications_of(session=session, user_id=visitor.user.id)
    return render(request, "bus/applications.html", {"rows": rows})


@router.get("/maombi/{public_id}", response_class=HTMLResponse)
def application(
    request: Request, public_id: str, session: DbSession, visitor: SignedIn
) -> HTMLResponse:
    """One application: where it stands, and everything the institution reported."""
    assert visitor.user.id is not None
    view = None
    if len(public_id) <= 32:
        view = selectors.application_of(
            session=session, user_id=visitor.user.id, public_id=public_id
        )
    if view is None:
        raise HTTPException(status_code=404)
    assert view.application.id is not None
    history = selectors.history_of(session=session, application_id=view.application.id)
    context = {"view": view, "history": history}
    return render(request, "bus/application.html", context)


@router.get("/taarifa-zangu", response_class=HTMLResponse)
def receipts(request: Request, session: DbSession, visitor: SignedIn) -> HTMLResponse:
    """ "Taarifa zangu zilizoshirikiwa": who received the person's data, when and why."""
    assert visitor.user.id is not None
    rows = selectors.receipts_of(session=session, user_id=visitor.user.id)
    return render(request, "bus/receipts.html", {"rows": rows})


async def _delivery_or_none(request: Request) -> bytes | None:
    """The delivery's bytes, or None past the envelope limit (refused unread)."""
    return await body_read(request, MAX_ENVELOPE_BYTES)


def _answer(client: GovesbClient, status: int, message: str | None = None) -> Response:
    """Our signed answer to a delivery: success, or failure with `message`."""
    body = response(success=message is None, key=client.config.private_key, message=message)
    return Response(body, status_code=status, media_type="application/json", headers=NO_STORE)


@router.post(
    DELIVERY_PATH,
    dependencies=[public_endpoint("GovESB signs every delivery; it is verified before use")],
)
def delivery(
    request: Request,
    session: DbSession,
    body: Annotated[bytes | None, Depends(_delivery_or_none)],
) -> Response:
    """A status push from an institution, through GovESB: verify, apply, answer signed."""
    client = _bus(request)
    if client is None:
        return Response(status_code=503, headers=NO_STORE)
    if body is None:
        logger.warning("bus delivery refused: too_large")
        return _answer(client, 413, "too_large")
    try:
        incoming = delivery_open(body, client.config.esb_public_key)
    except EnvelopeRejected as refusal:
        logger.warning("bus delivery refused: %s", refusal.reason)
        status = 401 if refusal.reason in ("bad_signature", "unsigned") else 400
        return _answer(client, status, refusal.reason)
    return _status_push(session, client, incoming.code, incoming.request_id, incoming.esb_body)


def _status_push(
    session: Session, client: GovesbClient, code: str, request_id: str, esb_body: Any
) -> Response:
    try:
        push = StatusPush.model_validate(esb_body)
    except ValidationError:
        logger.warning("bus delivery %s refused: invalid (%s)", request_id, code)
        return _answer(client, 400, "invalid")
    refused = services.status_apply(
        session=session, code=code, push=push, request_id=request_id, now=_now()
    )
    if refused:
        logger.warning("bus delivery %s refused: %s (%s)", request_id, refused, code)
        return _answer(client, 400, refused)
    logger.info("bus delivery %s: %s now %s", request_id, code, push.status)
    return _answer(client, 200)
