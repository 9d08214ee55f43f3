"""Feedback forms: "was this page useful?", a problem report, and a message to the team.

Each POST checks CSRF (app-wide), its permission and the per-client rate limit, validates on the
server, and answers 303 after success or the same page with an error summary (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from portal.db import DbSession
from portal.feedback import services
from portal.feedback.dependencies import AnswerFromReference
from portal.feedback.schemas import CommentIn, ContactIn, ProblemIn, UsefulIn
from portal.identity.dependencies import require_permission
from portal.web.forms import (
    FORM_INVALID_STATUS,
    FormInput,
    form_blank,
    form_dependency,
    redirect_after_post,
)
from portal.web.i18n import locale_for
from portal.web.paths import PATH_MAX, local_path_or_home
from portal.web.ratelimit import rate_limit
from portal.web.templating import render

router = APIRouter(include_in_schema=False)
SENDING = [require_permission("feedback.send"), Depends(rate_limit("feedback"))]
FromPage = Annotated[str, Query(alias="ukurasa", max_length=PATH_MAX)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _thanks(page: str) -> Response:
    return redirect_after_post("/maoni/asante?" + urlencode({"ukurasa": page}))


def _keep(
    request: Request, session: Session, kind: str, page: str, reason: str, comment: str | None
) -> Response:
    """Keep a problem report or a message, then thank the reader."""
    services.feedback_add(
        session=session,
        kind=kind,
        page=page,
        reason=reason,
        comment=comment,
        language=locale_for(request),
        now=_now(),
    )
    return _thanks(page)


def _form_page(
    request: Request, template: str, form_input: FormInput[Any], **context: Any
) -> HTMLResponse:
    status = FORM_INVALID_STATUS if form_input.errors else 200
    return render(request, template, {"form_input": form_input, **context}, status=status)


@router.post("/maoni", dependencies=SENDING)
def useful_send(
    request: Request,
    session: DbSession,
    form_input: Annotated[FormInput[UsefulIn], Depends(form_dependency(UsefulIn))],
) -> Response:
    if form_input.data is None:
        page = local_path_or_home(str(form_input.value("page")))
        return _form_page(request, "feedback/useful.html", form_input, page=page)
    entry = services.feedback_add(
        session=session,
        kind="useful",
        page=form_input.data.page,
        useful=form_input.data.useful == "yes",
        language=locale_for(request),
        now=_now(),
    )
    return redirect_after_post(f"/maoni/{entry.reference}")


@router.get("/maoni/asante", response_class=HTMLResponse)
def thanks(request: Request, page: FromPage = "/") -> HTMLResponse:
    return render(request, "feedback/thanks.html", {"page": local_path_or_home(page)})


@router.get("/maoni/{reference}", response_class=HTMLResponse)
def comment_form(request: Request, answer: AnswerFromReference) -> HTMLResponse:
    return _form_page(request, "feedback/comment.html", form_blank(), answer=answer)


@router.post("/maoni/{reference}", dependencies=SENDING)
def comment_send(
    request: Request,
    session: DbSession,
    answer: AnswerFromReference,
    form_input: Annotated[FormInput[CommentIn], Depends(form_dependency(CommentIn))],
) -> Response:
    if form_input.data is None:
        return _form_page(request, "feedback/comment.html", form_input, answer=answer)
    services.feedback_comment_add(session=session, answer=answer, comment=form_input.data.comment)
    return _thanks(answer.page)


@router.get("/tatizo", response_class=HTMLResponse)
def problem_form(request: Request, page: FromPage = "/") -> HTMLResponse:
    form_input = form_blank({"page": local_path_or_home(page)})
    return _form_page(request, "feedback/problem.html", form_input)


@router.post("/tatizo", dependencies=SENDING)
def problem_send(
    request: Request,
    session: DbSession,
    form_input: Annotated[FormInput[ProblemIn], Depends(form_dependency(ProblemIn))],
) -> Response:
    if form_input.data is None:
        return _form_page(request, "feedback/problem.html", form_input)
    data = form_input.data
    return _keep(request, session, "problem", data.page, data.reason, data.comment)


@router.get("/wasiliana", response_class=HTMLResponse)
def contact_form(request: Request) -> HTMLResponse:
    return _form_page(request, "feedback/contact.html", form_blank())


@router.post("/wasiliana", dependencies=SENDING)
def contact_send(
    request: Request,
    session: DbSession,
    form_input: Annotated[FormInput[ContactIn], Depends(form_dependency(ContactIn))],
) -> Response:
    if form_input.data is None:
        return _form_page(request, "feedback/contact.html", form_input)
    data = form_input.data
    return _keep(request, session, "contact", "/wasiliana", data.topic, data.message)
