"""Reads of feedback."""

from __future__ import annotations

from sqlmodel import Session, select

from portal.feedback.models import Feedback


def answer_get(*, session: Session, reference: str) -> Feedback | None:
    """A "was this page useful?" answer by its random reference."""
    return session.exec(
        select(Feedback).where(Feedback.reference == reference, Feedback.kind == "useful")
    ).first()
