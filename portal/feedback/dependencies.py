"""Load-or-404 for the follow-up comment of an answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from pydantic import StringConstraints

from portal.db import DbSession
from portal.feedback import selectors
from portal.feedback.models import Feedback

Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,32}$")]


def _answer(reference: Reference, session: DbSession) -> Feedback:
    answer = selectors.answer_get(session=session, reference=reference)
    if answer is None:
        raise HTTPException(status_code=404)
    return answer


AnswerFromReference = Annotated[Feedback, Depends(_answer)]
