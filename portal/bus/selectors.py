"""Reads of the hand-off: a person's applications with their history, and their receipts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from portal.bus.models import Application, ApplicationEvent, SharingReceipt
from portal.catalogue.models import Institution, Service


@dataclass(frozen=True)
class ApplicationView:
    application: Application
    service: Service
    institution: Institution


def applications_of(*, session: Session, user_id: int) -> list[ApplicationView]:
    """A person's applications, the most recently changed first."""
    rows = session.exec(
        select(Application, Service, Institution)
        .join(Service, col(Service.id) == Application.service_id)
        .join(Institution, col(Institution.id) == Application.institution_id)
        .where(Application.user_id == user_id)
        .order_by(col(Application.updated_at).desc(), col(Application.id).desc())
    ).all()
    return [ApplicationView(*row) for row in rows]


def application_of(*, session: Session, user_id: int, public_id: str) -> ApplicationView | None:
    """One of the person's applications; None for anyone else's."""
    row = session.exec(
        select(Application, Service, Institution)
        .join(Service, col(Service.id) == Application.service_id)
        .join(Institution, col(Institution.id) == Application.institution_id)
        .where(Application.user_id == user_id, Application.public_id == public_id)
    ).first()
    return ApplicationView(*row) if row else None


def history_of(*, session: Session, application_id: int) -> list[ApplicationEvent]:
    """What the institution reported, in the order it happened."""
    return list(
        session.exec(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application_id)
            .order_by(col(ApplicationEvent.sequence), col(ApplicationEvent.id))
        ).all()
    )


@dataclass(frozen=True)
class ReceiptView:
    receipt: SharingReceipt
    service: Service
    institution: Institution
    application: Application | None


def receipts_of(*, session: Session, user_id: int) -> list[ReceiptView]:
    """Every sharing of the person's data, the newest first."""
    rows = session.exec(
        select(SharingReceipt, Service, Institution, Application)
        .join(Service, col(Service.id) == SharingReceipt.service_id)
        .join(Institution, col(Institution.id) == SharingReceipt.institution_id)
        .join(
            Application,
            col(Application.id) == SharingReceipt.application_id,
            isouter=True,
        )
        .where(SharingReceipt.user_id == user_id)
        .order_by(col(SharingReceipt.shared_at).desc(), col(SharingReceipt.id).desc())
    ).all()
    return [ReceiptView(*row) for row in rows]


# What an application's status means for a step of a life-event journey.
STEP_STATES = {"received": "started", "in_review": "in_progress", "approved": "done"}


@dataclass(frozen=True)
class Journey:
    steps: list[tuple[Service, str]]  # not_started, started, in_progress, done, rejected
    next_step: Service | None


def journey(*, session: Session, user_id: int, services: list[Service]) -> Journey:
    """Where the person stands on each service of a journey, from their latest application
    for it, and the first one still to take (not started, or refused last time)."""
    rows = session.exec(
        select(Application.service_id, Application.status)
        .where(Application.user_id == user_id)
        .order_by(col(Application.updated_at), col(Application.id))
    ).all()
    latest = dict(rows)  # a later application for the same service wins
    steps = [
        (
            service,
            STEP_STATES.get(latest[service.id], "rejected")
            if service.id in latest
            else "not_started",
        )
        for service in services
    ]
    next_step = next((s for s, state in steps if state in ("not_started", "rejected")), None)
    return Journey(steps=steps, next_step=next_step)
