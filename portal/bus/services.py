"""Writes of the hand-off: begin, record the application and its receipt, fail, apply a push.

Services flush; the caller's unit of work commits. An application is recorded only from an
institution's verified answer, so nothing is shown as started that did not start. A hand-off
whose outcome is unknown (the bus timed out after the request left) is settled later by the
outbox worker, which asks the institution whether it opened one under the same key.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from portal.bus.govesb.client import GovesbClient
from portal.bus.models import (
    Application,
    ApplicationEvent,
    BusDeliverySeen,
    HandOff,
    SharingReceipt,
)
from portal.bus.schemas import HandOffAnswer, StatusPush
from portal.catalogue.models import Service
from portal.outbox.dispatcher import Handler
from portal.outbox.services import outbox_add

logger = logging.getLogger("portal.bus")

HAND_OFF_SETTLE = "bus.hand_off.settle"
BUS_TOPICS = (HAND_OFF_SETTLE,)
PURPOSE_SERVICE_START = "service_start"
DELIVERIES_KEPT = dt.timedelta(days=30)  # how long a delivery's request id is remembered
ATTRIBUTE_NAMES = {  # ours -> the hand-off's
    "nin": "nin",
    "given_name": "givenName",
    "family_name": "familyName",
    "birthdate": "birthDate",
    "phone_number": "phoneNumber",
}


class HandOffRefused(ValueError):
    """A hand-off that cannot go on: its key belongs to another service, or an answer does
    not fit what was asked."""


def hand_off_begin(
    *,
    session: Session,
    user_id: int,
    service: Service,
    key: str,
    attributes: tuple[str, ...],
    locale: str,
    now: dt.datetime,
) -> HandOff:
    """The person's hand-off under `key`, made on its first use; sent again on every other."""
    statement = select(HandOff).where(HandOff.user_id == user_id, HandOff.idempotency_key == key)
    row = session.exec(statement).first()
    if row is None:
        assert service.id is not None
        row = HandOff(
            user_id=user_id,
            service_id=service.id,
            idempotency_key=key,
            state="sending",
            attributes=list(attributes),
            locale=locale,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the same form, sent twice at once
            row = session.exec(statement).one()
    if row.service_id != service.id:
        raise HandOffRefused("this key started another service")
    if row.state != "started":
        row.state, row.failure, row.updated_at = "sending", None, now
        session.add(row)
    session.flush()
    return row


def hand_off_body(
    *,
    hand_off: HandOff,
    service: Service,
    attributes: Mapping[str, str],
    purpose: str,
    return_url: str,
) -> dict[str, Any]:
    """What the institution receives: the consented attributes only, and why."""
    citizen = {
        ATTRIBUTE_NAMES[name]: attributes[name]
        for name in hand_off.attributes
        if name in attributes
    }
    return {
        "operation": "open",
        "idempotencyKey": hand_off.idempotency_key,
        "service": service.slug,
        "apiCode": service.launch_api_code,
        "locale": hand_off.locale,
        "purpose": purpose,
        "citizen": citizen,
        "returnUrl": return_url,
    }


def hand_off_find_body(hand_off: HandOff) -> dict[str, Any]:
    return {"operation": "find", "idempotencyKey": hand_off.idempotency_key}


def application_record(
    *,
    session: Session,
    hand_off: HandOff,
    service: Service,
    answer: HandOffAnswer,
    request_id: str,
    now: dt.datetime,
) -> Application:
    """The application the institution opened, with its receipt: recorded once per hand-off,
    however often the hand-off was sent."""
    if hand_off.application_id is not None:
        existing = session.get(Application, hand_off.application_id)
        assert existing is not None
        if existing.reference != answer.reference:
            raise HandOffRefused("the institution answered another reference for the same key")
        return existing
    same = session.exec(
        select(Application).where(
            Application.push_code == answer.status_push_code,
            Application.reference == answer.reference,
        )
    ).first()
    if same is not None:
        raise HandOffRefused("the institution answered a reference it gave before")
    assert service.id is not None
    application = Application(
        public_id=secrets.token_urlsafe(16),
        user_id=hand_off.user_id,
        service_id=service.id,
        institution_id=service.institution_id,
        reference=answer.reference,
        push_code=answer.status_push_code,
        status=answer.status,
        started_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    assert application.id is not None
    session.add(
        ApplicationEvent(
            application_id=application.id,
            event_id=f"hand-off-{hand_off.id}",
            sequence=1,
            status=answer.status,
            at=now,
            received_at=now,
        )
    )
    session.add(
        SharingReceipt(
            user_id=hand_off.user_id,
            institution_id=service.institution_id,
            service_id=service.id,
            application_id=application.id,
            attributes=list(hand_off.attributes),
            purpose=PURPOSE_SERVICE_START,
            request_id=request_id,
            shared_at=now,
        )
    )
    hand_off.state, hand_off.failure = "started", None
    hand_off.application_id, hand_off.updated_at = application.id, now
    session.add(hand_off)
    session.flush()
    return application


def hand_off_failed(
    *, session: Session, hand_off: HandOff, reason: str, maybe_delivered: bool, now: dt.datetime
) -> None:
    """The hand-off did not (surely) start. When the request may have reached the institution,
    the worker is asked to find out (and record the application if there is one)."""
    if hand_off.state == "started":
        return
    hand_off.state = "unknown" if maybe_delivered else "failed"
    hand_off.failure, hand_off.updated_at = reason[:60], now
    session.add(hand_off)
    if maybe_delivered:
        outbox_add(session=session, topic=HAND_OFF_SETTLE, key=str(hand_off.id), now=now)
    session.flush()


def delivery_first_use(*, session: Session, request_id: str, now: dt.datetime) -> bool:
    """Record a delivery's request id; False when it was acted on before (a replay)."""
    session.exec(
        delete(BusDeliverySeen).where(col(BusDeliverySeen.received_at) < now - DELIVERIES_KEPT)
    )
    if session.get(BusDeliverySeen, request_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(BusDeliverySeen(request_id=request_id, received_at=now))
    except IntegrityError:  # the same delivery, twice at once
        return False
    return True


def status_apply(
    *, session: Session, code: str, push: StatusPush, request_id: str, now: dt.datetime
) -> str | None:
    """Apply one status push; None when done (or done before), else why it was refused:
    "unknown_reference" (nothing changes) or "replayed"."""
    application = session.exec(
        select(Application).where(
            Application.push_code == code, Application.reference == push.reference
        )
    ).first()
    if application is None:
        return "unknown_reference"
    if not delivery_first_use(session=session, request_id=request_id, now=now):
        return "replayed"
    assert application.id is not None
    seen = session.exec(
        select(ApplicationEvent.id).where(
            ApplicationEvent.application_id == application.id,
            ApplicationEvent.event_id == push.event_id,
        )
    ).first()
    if seen is not None:  # the institution sent the same change again: already applied
        return None
    message = push.message.model_dump() if push.message else None
    session.add(
        ApplicationEvent(
            application_id=application.id,
            event_id=push.event_id,
            sequence=push.sequence,
            status=push.status,
            message=message,
            at=push.at,
            received_at=now,
        )
    )
    if push.sequence > application.sequence:  # an older change arriving late is history only
        application.status, application.status_message = push.status, message
        application.sequence, application.updated_at = push.sequence, now
        session.add(application)
    session.flush()
    return None


class _Settle:
    """The outbox handler that settles a hand-off whose outcome is unknown."""

    def __init__(self, client: GovesbClient) -> None:
        self.client = client

    def __call__(self, *, session: Session, key: str) -> None:
        hand_off = session.get(HandOff, int(key))
        if hand_off is None or hand_off.state != "unknown":
            return  # started or failed since, or gone with its person
        service = session.get(Service, hand_off.service_id)
        assert service is not None
        assert service.launch_api_code
        now = dt.datetime.now(dt.UTC)
        reply = self.client.request(service.launch_api_code, hand_off_find_body(hand_off))
        if reply.success:
            answer = HandOffAnswer.model_validate(reply.esb_body)
            application_record(
                session=session,
                hand_off=hand_off,
                service=service,
                answer=answer,
                request_id=reply.request_id or "",
                now=now,
            )
            logger.info("hand-off %s settled: the institution had opened it", hand_off.id)
            return
        if reply.message == "not_found":
            hand_off.state, hand_off.failure, hand_off.updated_at = "failed", "not_opened", now
            session.add(hand_off)
            logger.info("hand-off %s settled: the institution never opened it", hand_off.id)
            return
        raise RuntimeError(f"the institution could not say what became of hand-off {key}")


def outbox_handlers(*, client: GovesbClient) -> dict[str, Handler]:
    """The outbox topics of the bus, each with its handler on `client`."""
    return {HAND_OFF_SETTLE: _Settle(client)}
