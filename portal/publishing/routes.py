"""Publishers' pages: their institutions, each institution's services and drafts, the draft
editor (one section a page), preview, submission, answers to curators, revisions compared.

Every page needs `publishing.edit` and reaches only the institutions the person publishes for
(curators and administrators: all). Every POST declares the permission, carries the draft
version it was shown, and answers 303 on success or the same page with its errors (422); a
draft changed meanwhile is shown again as it now is (409), never overwritten.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Institution, Service
from portal.catalogue.schemas import parse_duration
from portal.db import DbSession
from portal.identity.dependencies import SignedIn, Visitor, require_permission
from portal.publishing import selectors, services
from portal.publishing.dependencies import (
    PERMISSION,
    DraftFromId,
    DraftInScope,
    InstitutionInScope,
    Publisher,
    SectionForm,
    SectionFromSlug,
    ServiceInScope,
)
from portal.publishing.models import EDITING, OPEN_STATES, RETURNED, Draft
from portal.publishing.schemas import (
    PART_LABELS,
    SECTION_OF_PART,
    SECTIONS,
    AnswerIn,
    DiscardIn,
    NewServiceIn,
    Section,
    SectionInvalid,
    SubmitIn,
    Terms,
    fee_rows,
    section_changes,
    version_of,
)
from portal.publishing.services import Actor, DraftRefused, DraftStale
from portal.web.forms import (
    FORM_INVALID_STATUS,
    N_,
    FormInput,
    form_blank,
    form_dependency,
    redirect_after_post,
)
from portal.web.templating import render

router = APIRouter(include_in_schema=False)
EDITS = [require_permission(PERMISSION)]
CONFLICT = 409  # the draft changed, or is not in a state to change, since the page was shown
REVIEW_SOON = dt.timedelta(days=60)  # a review due this soon is flagged on the lists
EDITABLE = (EDITING, RETURNED)
SLUG_TAKEN = N_("A service or a draft already has this address: choose another")
INCOMPLETE = N_("The draft is not complete yet: fix the problems listed first")
REVISION_MAX = 2**31 - 1
DRAFT = "rasimu"  # `hadi=rasimu`: compare with the open draft
LIVE = "sasa"  # `kutoka=sasa`: compare with the published record as it is now


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor(visitor: Visitor) -> Actor:
    return Actor(user_id=visitor.user.id, name=visitor.user.name)


def _draft_url(draft: Draft) -> str:
    return f"/chapisha/rasimu/{draft.id}"


def _review_mark(service: Service, today: dt.date) -> str | None:
    if service.review_due <= today:
        return "overdue"
    if service.review_due <= today + REVIEW_SOON:
        return "soon"
    return None


def _returned_note(session: Session, draft: Draft) -> str | None:
    """The curator's latest note on a draft sent back to its publisher."""
    if draft.state != RETURNED or draft.id is None:
        return None
    notes = selectors.notes_of(session=session, draft_id=draft.id)
    returned = [note for note in notes if note.kind == "returned"]
    return returned[-1].body if returned else None


def _problems(record: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """How complete a record is, and each part with a problem: its label, whether it is
    missing or needs checking, and the section that fixes it (None when no page does)."""
    percent, problems = selectors.completeness(record)
    found: dict[str, dict[str, Any]] = {}
    for path, message in problems:
        part = path.split(".")[0]
        if part == "record":  # a rule across parts
            part = "alert" if "alert" in message else "review_due"
        found.setdefault(
            part,
            {
                "part": part,
                "label": PART_LABELS.get(part, part),
                "missing": part not in record,
                "section": SECTION_OF_PART.get(part),
            },
        )
    order = list(SECTIONS)
    return percent, sorted(
        found.values(),
        key=lambda problem: order.index(problem["section"]) if problem["section"] else -1,
    )


@router.get("/chapisha", response_class=HTMLResponse)
def desk(request: Request, session: DbSession, visitor: Publisher) -> HTMLResponse:
    """The publisher's start page: the institutions they publish for, and what needs doing."""
    institutions = [
        institution
        for institution, _count in catalogue_selectors.institution_list(session=session)
        if visitor.may_publish_for(institution.slug)
    ]
    counts = selectors.desk_counts(
        session=session,
        institution_ids=[i.id for i in institutions if i.id is not None],
        today=_now().date(),
    )
    rows = [(institution, counts[institution.id]) for institution in institutions if institution.id]
    return render(request, "publishing/desk.html", {"rows": rows})


def _institution_page(
    request: Request,
    session: Session,
    institution: Institution,
    form_input: FormInput[Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    today = _now().date()
    rows = []
    for row in selectors.services_of(session=session, institution=institution, today=today):
        record = row.draft.record if row.draft else catalogue_selectors.service_record(row.service)
        percent, problems = selectors.completeness(record)
        rows.append(
            {
                "service": row.service,
                "draft": row.draft,
                "percent": percent,
                "problems": len(problems),
                "review": _review_mark(row.service, today),
                "returned_note": _returned_note(session, row.draft) if row.draft else None,
            }
        )
    drafts = [
        {
            "draft": draft,
            "percent": selectors.completeness(draft.record)[0],
            "returned_note": _returned_note(session, draft),
        }
        for draft in selectors.new_drafts_of(session=session, institution=institution)
    ]
    context = {
        "institution": institution,
        "rows": rows,
        "drafts": drafts,
        "form_input": form_input,
    }
    return render(request, "publishing/institution.html", context, status=status)


@router.get("/chapisha/{institution}", response_class=HTMLResponse)
def institution_desk(
    request: Request, session: DbSession, visitor: Publisher, institution: InstitutionInScope
) -> HTMLResponse:
    """An institution's services with their completeness and review markers, its new drafts,
    and the form to start a new service."""
    return _institution_page(request, session, institution, form_blank())


@router.post("/chapisha/{institution}/mpya", dependencies=EDITS)
def service_new(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    institution: InstitutionInScope,
    form_input: Annotated[FormInput[NewServiceIn], Depends(form_dependency(NewServiceIn))],
) -> Response:
    """Start the draft of a new service, at the address given."""
    if form_input.data is None:
        return _institution_page(
            request, session, institution, form_input, status=FORM_INVALID_STATUS
        )
    try:
        draft = services.draft_new(
            session=session,
            institution=institution,
            slug=form_input.data.slug,
            actor=_actor(visitor),
            now=_now(),
        )
    except DraftRefused:
        refused = form_input.with_error("slug", SLUG_TAKEN)
        return _institution_page(request, session, institution, refused, status=FORM_INVALID_STATUS)
    return redirect_after_post(_draft_url(draft))


@router.post("/chapisha/huduma/{slug}/hariri", dependencies=EDITS)
def service_edit(session: DbSession, visitor: SignedIn, service: ServiceInScope) -> Response:
    """The draft of a published service: the one open already, or a new one from its record."""
    draft = services.draft_for_service(
        session=session, service=service, actor=_actor(visitor), now=_now()
    )
    return redirect_after_post(_draft_url(draft))


def _overview(
    request: Request,
    session: Session,
    scoped: DraftInScope,
    *,
    forms: dict[str, FormInput[Any]] | None = None,
    stale: bool = False,
    status: int = 200,
) -> HTMLResponse:
    draft = scoped.draft
    assert draft.id is not None
    percent, problems = _problems(draft.record)
    service = (
        catalogue_selectors.service_get(session=session, slug=draft.slug)
        if draft.service_id
        else None
    )
    forms = forms or {}
    errors = [error for form in forms.values() for error in form.error_list]
    context = {
        "draft": draft,
        "record": draft.record,
        "institution": scoped.institution,
        "service": service,
        "percent": percent,
        "problems": problems,
        "sections": list(SECTIONS.values()),
        "duration": _duration(draft.record),
        "names": catalogue_selectors.taxonomy_names(session=session),
        "notes": selectors.notes_of(session=session, draft_id=draft.id),
        "editable": draft.state in EDITABLE,
        "open": draft.state in OPEN_STATES,
        "stale": stale,
        "errors": errors,
        "submit_form": forms.get("submit", form_blank()),
        "answer_form": forms.get("answer", form_blank()),
        "discard_form": forms.get("discard", form_blank()),
    }
    return render(request, "publishing/draft.html", context, status=status)


def _duration(record: dict[str, Any]) -> dt.timedelta | None:
    text = record.get("processing_time")
    try:
        return parse_duration(text) if isinstance(text, str) else None
    except ValueError:
        return None


@router.get("/chapisha/rasimu/{draft_id}", response_class=HTMLResponse)
def draft_overview(
    request: Request, session: DbSession, visitor: Publisher, scoped: DraftFromId
) -> HTMLResponse:
    """A draft: its state, what it still lacks, its sections, the review notes, the actions."""
    return _overview(request, session, scoped)


@router.get("/chapisha/rasimu/{draft_id}/hakikisho", response_class=HTMLResponse)
def draft_preview(
    request: Request, session: DbSession, visitor: Publisher, scoped: DraftFromId
) -> HTMLResponse:
    """The draft exactly as its public page will look, once it is complete."""
    draft = scoped.draft
    preview = selectors.service_preview(session=session, record=draft.record)
    if preview is None:
        percent, problems = _problems(draft.record)
        context = {"draft": draft, "percent": percent, "problems": problems}
        return render(request, "publishing/preview_blocked.html", context)
    # As the public page decides it: started through Mlango when it goes through GovESB and
    # this installation has a bus.
    through_mlango = preview.launch_mode == "govesb" and request.app.state.bus_client is not None
    context = {"service": preview, "through_mlango": through_mlango, "draft": draft}
    return render(request, "publishing/preview.html", context)


def _stale_or_refused(
    request: Request, session: Session, scoped: DraftInScope, version: int | None
) -> HTMLResponse | None:
    """The page to show instead of acting, when the draft cannot take this action now."""
    if scoped.draft.state not in OPEN_STATES:
        return _not_editable(request, scoped, status=CONFLICT)
    if version != scoped.draft.version:
        return _overview(request, session, scoped, stale=True, status=CONFLICT)
    return None


@router.post("/chapisha/rasimu/{draft_id}/wasilisha", dependencies=EDITS)
def draft_submit(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    scoped: DraftFromId,
    form_input: Annotated[FormInput[SubmitIn], Depends(form_dependency(SubmitIn))],
) -> Response:
    """Send the draft to the curators, with a note of what changed."""
    draft = scoped.draft
    if draft.state not in EDITABLE:
        return _not_editable(request, scoped, status=CONFLICT)
    blocked = _stale_or_refused(request, session, scoped, version_of(form_input.value("version")))
    if blocked is not None:
        return blocked
    if form_input.data is None:
        forms = {"submit": form_input}
        return _overview(request, session, scoped, forms=forms, status=FORM_INVALID_STATUS)
    try:
        services.draft_submit(
            session=session,
            draft=draft,
            version=draft.version,
            note=form_input.data.note,
            actor=_actor(visitor),
            now=_now(),
        )
    except DraftStale:
        return _overview(request, session, scoped, stale=True, status=CONFLICT)
    except DraftRefused as refusal:
        if str(refusal) != "incomplete":
            return _not_editable(request, scoped, status=CONFLICT)
        forms = {"submit": form_input.with_error("", INCOMPLETE)}
        return _overview(request, session, scoped, forms=forms, status=FORM_INVALID_STATUS)
    return redirect_after_post(_draft_url(draft))


@router.post("/chapisha/rasimu/{draft_id}/jibu", dependencies=EDITS)
def draft_answer(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    scoped: DraftFromId,
    form_input: Annotated[FormInput[AnswerIn], Depends(form_dependency(AnswerIn))],
) -> Response:
    """Answer the curator's note on a draft sent back."""
    draft = scoped.draft
    if draft.state != RETURNED:
        return _not_editable(request, scoped, status=CONFLICT)
    blocked = _stale_or_refused(request, session, scoped, version_of(form_input.value("version")))
    if blocked is not None:
        return blocked
    if form_input.data is None:
        forms = {"answer": form_input}
        return _overview(request, session, scoped, forms=forms, status=FORM_INVALID_STATUS)
    try:
        services.draft_answer(
            session=session,
            draft=draft,
            note=form_input.data.answer,
            actor=_actor(visitor),
            now=_now(),
        )
    except DraftRefused:
        return _not_editable(request, scoped, status=CONFLICT)
    return redirect_after_post(_draft_url(draft))


@router.post("/chapisha/rasimu/{draft_id}/acha", dependencies=EDITS)
def draft_discard(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    scoped: DraftFromId,
    form_input: Annotated[FormInput[DiscardIn], Depends(form_dependency(DiscardIn))],
) -> Response:
    """Give the draft up; the published service, if any, stays as it is."""
    blocked = _stale_or_refused(request, session, scoped, version_of(form_input.value("version")))
    if blocked is not None:
        return blocked
    if form_input.data is None:
        forms = {"discard": form_input}
        return _overview(request, session, scoped, forms=forms, status=FORM_INVALID_STATUS)
    try:
        services.draft_discard(
            session=session, draft=scoped.draft, actor=_actor(visitor), now=_now()
        )
    except DraftRefused:
        return _not_editable(request, scoped, status=CONFLICT)
    return redirect_after_post(f"/chapisha/{scoped.institution.slug}")


def _not_editable(request: Request, scoped: DraftInScope, *, status: int) -> HTMLResponse:
    context = {"draft": scoped.draft, "institution": scoped.institution}
    return render(request, "publishing/not_editable.html", context, status=status)


def _terms(session: Session, section: Section) -> tuple[Terms, dict[str, Any]]:
    """The catalogue's categories and life events, for the section that names them."""
    if section.slug != "makundi":
        return Terms(), {}
    categories = [c for c, _n in catalogue_selectors.category_list(session=session)]
    life_events = [e for e, _n in catalogue_selectors.life_event_list(session=session)]
    terms = Terms(
        categories=frozenset(c.slug for c in categories),
        life_events=frozenset(e.slug for e in life_events),
    )
    return terms, {"categories": categories, "life_events": life_events}


def _section_page(
    request: Request,
    session: Session,
    scoped: DraftInScope,
    section: Section,
    form_input: FormInput[Any],
    *,
    stale: bool = False,
    status: int = 200,
) -> HTMLResponse:
    _found, choices = _terms(session, section)
    context = {
        "draft": scoped.draft,
        "institution": scoped.institution,
        "section": section,
        "form_input": form_input,
        "version": scoped.draft.version,
        "stale": stale,
        "fee_rows": fee_rows(form_input.values),
        **choices,
    }
    return render(request, "publishing/section.html", context, status=status)


@router.get("/chapisha/rasimu/{draft_id}/{section}", response_class=HTMLResponse)
def section_form(
    request: Request,
    session: DbSession,
    visitor: Publisher,
    scoped: DraftFromId,
    section: SectionFromSlug,
) -> HTMLResponse:
    """One section of the draft, as a form filled with its current values."""
    if scoped.draft.state not in EDITABLE:
        return _not_editable(request, scoped, status=200)
    values = section.values(scoped.draft.record)
    return _section_page(request, session, scoped, section, form_blank(values))


@router.post("/chapisha/rasimu/{draft_id}/{section}", dependencies=EDITS)
def section_save(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    scoped: DraftFromId,
    section: SectionFromSlug,
    form_input: SectionForm,
) -> Response:
    """Save one section: checked on its own, then written to the draft at the version shown."""
    draft = scoped.draft
    if draft.state not in EDITABLE:
        return _not_editable(request, scoped, status=CONFLICT)
    shown = version_of(form_input.value("version"))
    if shown != draft.version:
        return _stale_section(request, session, scoped, section)
    if form_input.data is None:
        return _section_page(
            request, session, scoped, section, form_input, status=FORM_INVALID_STATUS
        )
    terms, _choices = _terms(session, section)
    try:
        changes = section_changes(section, form_input.data, draft.record, terms)
    except SectionInvalid as invalid:
        for field, msgid, params in invalid.problems:
            form_input = form_input.with_error(field, msgid, **params)
        return _section_page(
            request, session, scoped, section, form_input, status=FORM_INVALID_STATUS
        )
    try:
        services.draft_update(
            session=session,
            draft=draft,
            changes=changes,
            version=shown,
            actor=_actor(visitor),
            now=_now(),
        )
    except DraftStale:
        return _stale_section(request, session, scoped, section)
    except DraftRefused:
        return _not_editable(request, scoped, status=CONFLICT)
    return redirect_after_post(_draft_url(draft))


def _stale_section(
    request: Request, session: Session, scoped: DraftInScope, section: Section
) -> HTMLResponse:
    """The section as the draft now holds it, saying it changed since it was shown."""
    values = form_blank(section.values(scoped.draft.record))
    return _section_page(request, session, scoped, section, values, stale=True, status=CONFLICT)


@router.get("/chapisha/huduma/{slug}/matoleo", response_class=HTMLResponse)
def revisions(
    request: Request, session: DbSession, visitor: Publisher, service: ServiceInScope
) -> HTMLResponse:
    """Every published version of a service: number, who, when, and the change note."""
    assert service.id is not None
    context = {
        "service": service,
        "revisions": selectors.revisions_of(session=session, service_id=service.id),
        "draft": services.draft_open_of(session=session, service_id=service.id),
    }
    return render(request, "publishing/revisions.html", context)


def _number(text: str | None) -> int:
    """A revision number from the address, or 400."""
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 10:
        raise HTTPException(status_code=400, detail="a revision number is needed")
    number = int(text)
    if not 1 <= number <= REVISION_MAX:
        raise HTTPException(status_code=400, detail="a revision number is needed")
    return number


def _compared(
    session: Session, service: Service, which: str | None, draft: Draft | None
) -> tuple[str, int | None, dict[str, Any]]:
    """One side of a comparison: its kind, its number and its record; 404 when unknown."""
    assert service.id is not None
    if which == DRAFT:
        if draft is None:
            raise HTTPException(status_code=404)
        return "draft", None, draft.record
    if which == LIVE:
        return "live", None, catalogue_selectors.service_record(service)
    number = _number(which)
    revision = selectors.revision_get(session=session, service_id=service.id, number=number)
    if revision is None:
        raise HTTPException(status_code=404)
    return "revision", number, revision.record


@router.get("/chapisha/huduma/{slug}/linganisha", response_class=HTMLResponse)
def compare(
    request: Request,
    session: DbSession,
    visitor: Publisher,
    service: ServiceInScope,
    kutoka: str | None = None,
    hadi: str | None = None,
) -> HTMLResponse:
    """Two versions of a service side by side, field by field: revisions by number, the
    published record now (`sasa`) or the open draft (`rasimu`)."""
    assert service.id is not None
    draft = services.draft_open_of(session=session, service_id=service.id)
    before = _compared(session, service, kutoka, draft)
    after = _compared(session, service, hadi, draft)
    changes = [
        {
            "change": change,
            "label": PART_LABELS.get(change.part.split(".")[0].split("[")[0], ""),
        }
        for change in selectors.record_changes(before[2], after[2])
    ]
    context = {
        "service": service,
        "before": {"kind": before[0], "number": before[1]},
        "after": {"kind": after[0], "number": after[1]},
        "changes": changes,
        "draft": draft,
    }
    return render(request, "publishing/compare.html", context)
