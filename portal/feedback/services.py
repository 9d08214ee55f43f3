"""Writes of feedback. Words are scrubbed of anything that looks personal before they are kept."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlmodel import Session

from portal.feedback.models import COMMENT_MAX, Feedback

REMOVED = "[imeondolewa]"
# An e-mail address, or a run of digits with the separators people type between them that holds
# nine digits or more: a NIN (20 digits, often as 8-5-5-2), a phone number in any of its
# Tanzanian forms (0712 345 678, +255 712 345 678), a TIN, an account or control number.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s().\-/]{0,3}\d)+")


def _long_number(match: re.Match[str]) -> str:
    text = match.group(0)
    return REMOVED if sum(c.isdigit() for c in text) >= 9 else text


def personal_data_scrub(text: str) -> str:
    """`text` with e-mail addresses and long numbers (NIN, phone, TIN, accounts) removed."""
    return _DIGIT_RUN.sub(_long_number, _EMAIL.sub(REMOVED, text))


def _comment(text: str | None) -> str | None:
    if not text:
        return None
    return personal_data_scrub(text)[:COMMENT_MAX]


def feedback_add(
    *,
    session: Session,
    kind: str,
    page: str,
    language: str,
    now: dt.datetime,
    useful: bool | None = None,
    reason: str | None = None,
    comment: str | None = None,
) -> Feedback:
    """Keep one answer or message for curators, with its words scrubbed."""
    entry = Feedback(
        reference=secrets.token_urlsafe(16),
        kind=kind,
        page=page,
        useful=useful,
        reason=reason,
        comment=_comment(comment),
        language=language,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def feedback_comment_add(*, session: Session, answer: Feedback, comment: str) -> None:
    """Add the follow-up comment to a usefulness answer, once (a resent form changes nothing)."""
    if answer.comment is None:
        answer.comment = _comment(comment)
        session.add(answer)
