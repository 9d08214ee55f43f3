"""The curators' pages, under /simamia ("to supervise"): the review queue and decisions, the
editorial tools of the catalogue and the audit log.

Every page and every form needs a signed-in person holding the tool's permission (review,
edit, or reading the audit log); a visitor who is not signed in is sent to sign in first. A
decision on a draft names the draft version it was made on: one made on an older version, or
after the service was published again, is refused with a page that says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.dependencies import (
    CategoryFromSlug,
    InstitutionFromSlug,
    LifeEventFromSlug,
    ServiceFromSlug,
)
from portal.catalogue.models import Category, Institution, LifeEvent, Service, Synonym
from portal.curation import selectors, services
from portal.curation.dependencies import (
    DraftFromId,
    NamedService,
    RowId,
    SynonymFromId,
    actor_of,
    curator_only,
)
from portal.curation.schemas import (
    ApproveForm,
    AuditFilter,
    InstitutionForm,
    InstitutionNewForm,
    QueueFilter,
    ReturnForm,
    ServiceFilter,
    ServicePick,
    StatusForm,
    SynonymForm,
    TermForm,
    TermNewForm,
)
from portal.curation.services import DOWN, UP, CurationRefused
from portal.db import DbSession
from portal.identity.dependencies import SignedIn
from portal.identity.permissions import permitted
from portal.publishing import selectors as publishing_selectors
from portal.publishing import services as publishing_services
from portal.publishing.models import Draft
from portal.publishing.services import DraftRefused, DraftStale
from portal.web.forms import (
    FORM_INVALID_STATUS,
    N_,
    FormInput,
    form_blank,
    form_dependency,
    form_validate,
    redirect_after_post,
)
from portal.web.templating import render

router = APIRouter(prefix="/simamia", include_in_schema=False)
REVIEW = curator_only("curation.review")
EDIT = curator_only("curation.edit")
AUDIT = curator_only("audit.read")
FILTER_INVALID_STATUS = 400
CONFLICT = 409
ModelT = TypeVar("ModelT", bound=BaseModel)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _form(model: type[ModelT]) -> Any:
    return Depends(form_dependency(model))


def _page(
    request: Request,
    template: str,
    form_input: FormInput[Any] | None = None,
    *,
    status: int | None = None,
    **context: Any,
) -> HTMLResponse:
    """A tool's page; one whose form has errors answers 422 unless told otherwise."""
    form_input = form_input or form_blank()
    if status is None:
        status = FORM_INVALID_STATUS if form_input.errors else 200
    return render(request, template, {"form_input": form_input, **context}, status=status)


def _refused(request: Request, reason: str, back: str) -> HTMLResponse:
    """Nothing was done: say why, and link to the page to reload."""
    context = {"reason": reason, "back": back}
    return render(request, "curation/refused.html", context, status=CONFLICT)


def _filters(request: Request, model: type[ModelT]) -> FormInput[ModelT]:
    """A GET filter form, checked as any form is."""
    return form_validate(model, request.query_params.multi_items())


def _institution_chosen(
    session: Session, form_input: FormInput[Any]
) -> tuple[FormInput[Any], Institution | None]:
    """The institution a filter names, or the filter with an error when there is none such."""
    slug = form_input.data.taasisi if form_input.data is not None else None
    if not slug:
        return form_input, None
    institution = catalogue_selectors.institution_get(session=session, slug=slug)
    if institution is None:
        message = N_("Select an institution from the list")
        return form_input.with_error("taasisi", message), None
    return form_input, institution


def _institutions(session: Session) -> list[Institution]:
    return [row for row, _count in catalogue_selectors.institution_list(session=session)]


# The start page and the review queue.


@router.get("", response_class=HTMLResponse, dependencies=REVIEW)
def start(request: Request, session: DbSession, visitor: SignedIn) -> HTMLResponse:
    """What waits for the curators, and the way to each tool."""
    context: dict[str, Any] = {
        "overview": selectors.overview(session=session, now=_now()),
        "reads_audit": permitted(roles=visitor.roles, permission="audit.read"),
    }
    return _page(request, "curation/start.html", **context)


@router.get("/mapitio", response_class=HTMLResponse, dependencies=REVIEW)
def queue(request: Request, session: DbSession) -> HTMLResponse:
    """Drafts waiting for review, the oldest first; of one institution when asked."""
    form_input, institution = _institution_chosen(session, _filters(request, QueueFilter))
    rows = publishing_selectors.review_queue(
        session=session, institution_id=institution.id if institution else None
    )
    status = FILTER_INVALID_STATUS if form_input.errors else 200
    context: dict[str, Any] = {"rows": rows, "institutions": _institutions(session), "now": _now()}
    return _page(request, "curation/queue.html", form_input, status=status, **context)


def _review_page(
    request: Request,
    session: Session,
    draft: Draft,
    form_input: FormInput[Any] | None = None,
    return_input: FormInput[Any] | None = None,
) -> HTMLResponse:
    assert draft.id is not None
    live = catalogue_selectors.service_get(session=session, slug=draft.slug)
    published = catalogue_selectors.service_record(live) if live is not None else {}
    percent, problems = publishing_selectors.completeness(draft.record)
    context: dict[str, Any] = {
        "draft": draft,
        "institution": session.get(Institution, draft.institution_id),
        "live": live,
        # A new service's draft whose address a service took meanwhile: publishing it would
        # overwrite that service, so the page warns.
        "slug_taken": live is not None and draft.service_id is None,
        "changes": publishing_selectors.record_changes(published, draft.record),
        "percent": percent,
        "problems": problems,
        "notes": publishing_selectors.notes_of(session=session, draft_id=draft.id),
        "return_input": return_input or form_blank(),
    }
    return _page(request, "curation/review.html", form_input, **context)


@router.get("/mapitio/{draft_id}", response_class=HTMLResponse, dependencies=REVIEW)
def review(request: Request, session: DbSession, draft: DraftFromId) -> HTMLResponse:
    """A draft against the published service, field by field, with its notes and decisions."""
    return _review_page(request, session, draft)


def _decide(
    request: Request, session: Session, draft: Draft, decision: Callable[[], object]
) -> Response:
    """Apply a review decision, or undo all of it and say why it was refused."""
    back = f"/simamia/mapitio/{draft.id}"
    try:
        with session.begin_nested():
            decision()
    except DraftStale:
        return _refused(request, "stale", back)
    except DraftRefused as refusal:
        return _refused(request, str(refusal), back)
    except ValidationError:  # the record no longer passes the catalogue's checks
        return _refused(request, "incomplete", back)
    return redirect_after_post(back)


@router.post("/mapitio/{draft_id}/idhinisha", dependencies=REVIEW)
def approve(
    request: Request,
    session: DbSession,
    draft: DraftFromId,
    visitor: SignedIn,
    form_input: Annotated[FormInput[ApproveForm], _form(ApproveForm)],
) -> Response:
    """Publish the draft: the catalogue changes, search follows through the outbox."""
    if form_input.data is None:
        return _review_page(request, session, draft, form_input)
    version = form_input.data.version
    return _decide(
        request,
        session,
        draft,
        lambda: publishing_services.draft_approve(
            session=session, draft=draft, version=version, actor=actor_of(visitor), now=_now()
        ),
    )


@router.post("/mapitio/{draft_id}/rudisha", dependencies=REVIEW)
def send_back(
    request: Request,
    session: DbSession,
    draft: DraftFromId,
    visitor: SignedIn,
    form_input: Annotated[FormInput[ReturnForm], _form(ReturnForm)],
) -> Response:
    """Send the draft back to its publisher with a comment they see and answer."""
    if form_input.data is None:
        return _review_page(request, session, draft, form_input, form_input)
    data = form_input.data
    return _decide(
        request,
        session,
        draft,
        lambda: publishing_services.draft_return(
            session=session,
            draft=draft,
            version=data.version,
            note=data.comment,
            actor=actor_of(visitor),
            now=_now(),
        ),
    )


# Institutions.


@router.get("/taasisi", response_class=HTMLResponse, dependencies=EDIT)
def institutions(request: Request, session: DbSession) -> HTMLResponse:
    rows = catalogue_selectors.institution_list(session=session)
    return _page(request, "curation/institutions.html", rows=rows)


def _institution_values(institution: Institution) -> dict[str, str]:
    contact = institution.contact or {}
    hours = contact.get("hours") or {}
    return {
        "name_sw": institution.name.get("sw", ""),
        "name_en": institution.name.get("en", ""),
        "acronym": institution.acronym,
        "description_sw": institution.description.get("sw", ""),
        "description_en": institution.description.get("en", ""),
        "website": institution.website,
        "contact_phone": contact.get("phone", ""),
        "contact_email": contact.get("email", ""),
        "contact_url": contact.get("url", ""),
        "contact_hours_sw": hours.get("sw", ""),
        "contact_hours_en": hours.get("en", ""),
    }


def _institution_form(
    request: Request, form_input: FormInput[Any], institution: Institution | None
) -> HTMLResponse:
    return _page(request, "curation/institution_form.html", form_input, institution=institution)


def _institution_save(
    request: Request,
    session: Session,
    visitor: SignedIn,
    form_input: FormInput[Any],
    institution: Institution | None,
) -> Response:
    if form_input.data is None:
        return _institution_form(request, form_input, institution)
    slug = institution.slug if institution is not None else form_input.data.slug
    try:
        record = form_input.data.record(slug)
    except ValidationError:
        form_input = form_input.with_error("", N_("Check what you entered"))
        return _institution_form(request, form_input, institution)
    try:
        services.institution_save(
            session=session,
            record=record,
            new=institution is None,
            actor=actor_of(visitor),
            now=_now(),
        )
    except CurationRefused:
        message = N_("An institution already has this address name: choose another")
        return _institution_form(request, form_input.with_error("slug", message), institution)
    return redirect_after_post("/simamia/taasisi")


@router.get("/taasisi/mpya", response_class=HTMLResponse, dependencies=EDIT)
def institution_new(request: Request) -> HTMLResponse:
    return _institution_form(request, form_blank(), None)


@router.post("/taasisi/mpya", dependencies=EDIT)
def institution_create(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    form_input: Annotated[FormInput[InstitutionNewForm], _form(InstitutionNewForm)],
) -> Response:
    return _institution_save(request, session, visitor, form_input, None)


@router.get("/taasisi/{slug}", response_class=HTMLResponse, dependencies=EDIT)
def institution_edit(request: Request, institution: InstitutionFromSlug) -> HTMLResponse:
    values = _institution_values(institution)
    return _institution_form(request, form_blank(values), institution)


@router.post("/taasisi/{slug}", dependencies=EDIT)
def institution_update(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    institution: InstitutionFromSlug,
    form_input: Annotated[FormInput[InstitutionForm], _form(InstitutionForm)],
) -> Response:
    return _institution_save(request, session, visitor, form_input, institution)


# Categories and life events share their pages; `kind` tells them apart.


def _terms_page(request: Request, session: Session, kind: str) -> HTMLResponse:
    rows = (
        catalogue_selectors.category_list(session=session)
        if kind == "makundi"
        else catalogue_selectors.life_event_list(session=session)
    )
    return _page(request, "curation/terms.html", kind=kind, rows=rows)


def _term_values(term: Category | LifeEvent) -> dict[str, str]:
    return {
        "name_sw": term.name.get("sw", ""),
        "name_en": term.name.get("en", ""),
        "description_sw": term.description.get("sw", ""),
        "description_en": term.description.get("en", ""),
    }


def _term_form(
    request: Request, kind: str, form_input: FormInput[Any], term: Category | LifeEvent | None
) -> HTMLResponse:
    return _page(request, "curation/term_form.html", form_input, kind=kind, term=term)


def _term_save(
    request: Request,
    session: Session,
    visitor: SignedIn,
    kind: str,
    form_input: FormInput[Any],
    term: Category | LifeEvent | None,
) -> Response:
    if form_input.data is None:
        return _term_form(request, kind, form_input, term)
    slug = term.slug if term is not None else form_input.data.slug
    record, new, actor = form_input.data.record(slug), term is None, actor_of(visitor)
    try:
        if kind == "makundi":
            services.term_save(
                session=session, model=Category, record=record, new=new, actor=actor, now=_now()
            )
        else:
            services.term_save(
                session=session, model=LifeEvent, record=record, new=new, actor=actor, now=_now()
            )
    except CurationRefused:
        message = N_("Another one already has this address name: choose another")
        return _term_form(request, kind, form_input.with_error("slug", message), term)
    return redirect_after_post(f"/simamia/{kind}")


@router.get("/makundi", response_class=HTMLResponse, dependencies=EDIT)
def categories(request: Request, session: DbSession) -> HTMLResponse:
    return _terms_page(request, session, "makundi")


@router.get("/makundi/mpya", response_class=HTMLResponse, dependencies=EDIT)
def category_new(request: Request) -> HTMLResponse:
    return _term_form(request, "makundi", form_blank(), None)


@router.post("/makundi/mpya", dependencies=EDIT)
def category_create(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    form_input: Annotated[FormInput[TermNewForm], _form(TermNewForm)],
) -> Response:
    return _term_save(request, session, visitor, "makundi", form_input, None)


@router.get("/makundi/{slug}", response_class=HTMLResponse, dependencies=EDIT)
def category_edit(request: Request, category: CategoryFromSlug) -> HTMLResponse:
    return _term_form(request, "makundi", form_blank(_term_values(category)), category)


@router.post("/makundi/{slug}", dependencies=EDIT)
def category_update(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    category: CategoryFromSlug,
    form_input: Annotated[FormInput[TermForm], _form(TermForm)],
) -> Response:
    return _term_save(request, session, visitor, "makundi", form_input, category)


@router.get("/matukio", response_class=HTMLResponse, dependencies=EDIT)
def life_events(request: Request, session: DbSession) -> HTMLResponse:
    return _terms_page(request, session, "matukio")


@router.get("/matukio/mpya", response_class=HTMLResponse, dependencies=EDIT)
def life_event_new(request: Request) -> HTMLResponse:
    return _term_form(request, "matukio", form_blank(), None)


@router.post("/matukio/mpya", dependencies=EDIT)
def life_event_create(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    form_input: Annotated[FormInput[TermNewForm], _form(TermNewForm)],
) -> Response:
    return _term_save(request, session, visitor, "matukio", form_input, None)


@router.get("/matukio/{slug}", response_class=HTMLResponse, dependencies=EDIT)
def life_event_edit(request: Request, life_event: LifeEventFromSlug) -> HTMLResponse:
    return _term_form(request, "matukio", form_blank(_term_values(life_event)), life_event)


@router.post("/matukio/{slug}", dependencies=EDIT)
def life_event_update(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    life_event: LifeEventFromSlug,
    form_input: Annotated[FormInput[TermForm], _form(TermForm)],
) -> Response:
    return _term_save(request, session, visitor, "matukio", form_input, life_event)


# A life event's journey: its services in order.


def _steps_page(
    request: Request, session: Session, life_event: LifeEvent, form_input: FormInput[Any]
) -> HTMLResponse:
    steps = selectors.life_event_steps(session=session, life_event=life_event)
    choices = selectors.service_choices(session=session, leaving_out=steps)
    context: dict[str, Any] = {"life_event": life_event, "steps": steps, "choices": choices}
    return _page(request, "curation/steps.html", form_input, **context)


def _steps_path(life_event: LifeEvent) -> str:
    return f"/simamia/matukio/{life_event.slug}/hatua"


@router.get("/matukio/{slug}/hatua", response_class=HTMLResponse, dependencies=EDIT)
def steps(request: Request, session: DbSession, life_event: LifeEventFromSlug) -> HTMLResponse:
    return _steps_page(request, session, life_event, form_blank())


def _chosen_service(
    session: Session, form_input: FormInput[ServicePick]
) -> tuple[FormInput[ServicePick], Service | None]:
    if form_input.data is None:
        return form_input, None
    service = catalogue_selectors.service_get(session=session, slug=form_input.data.service)
    if service is None:
        return form_input.with_error("service", N_("Select a service from the list")), None
    return form_input, service


@router.post("/matukio/{slug}/hatua", dependencies=EDIT)
def step_add(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    life_event: LifeEventFromSlug,
    form_input: Annotated[FormInput[ServicePick], _form(ServicePick)],
) -> Response:
    """Add a service as the last step of the journey."""
    form_input, service = _chosen_service(session, form_input)
    if service is None:
        return _steps_page(request, session, life_event, form_input)
    try:
        services.step_add(
            session=session,
            life_event=life_event,
            service=service,
            actor=actor_of(visitor),
            now=_now(),
        )
    except CurationRefused:
        message = N_("This service is already a step of this life event")
        return _steps_page(request, session, life_event, form_input.with_error("service", message))
    return redirect_after_post(_steps_path(life_event))


def _step_change(request: Request, life_event: LifeEvent, change: Callable[[], object]) -> Response:
    try:
        change()
    except CurationRefused as refusal:
        if refusal.reason != "at_the_end":  # moving the first step up changes nothing
            return _refused(request, refusal.reason, _steps_path(life_event))
    return redirect_after_post(_steps_path(life_event))


def _step_move(
    request: Request,
    session: Session,
    visitor: SignedIn,
    life_event: LifeEvent,
    service: Service,
    direction: int,
) -> Response:
    return _step_change(
        request,
        life_event,
        lambda: services.step_move(
            session=session,
            life_event=life_event,
            service=service,
            direction=direction,
            actor=actor_of(visitor),
            now=_now(),
        ),
    )


@router.post("/matukio/{slug}/hatua/{service}/juu", dependencies=EDIT)
def step_up(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    life_event: LifeEventFromSlug,
    service: NamedService,
) -> Response:
    return _step_move(request, session, visitor, life_event, service, UP)


@router.post("/matukio/{slug}/hatua/{service}/chini", dependencies=EDIT)
def step_down(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    life_event: LifeEventFromSlug,
    service: NamedService,
) -> Response:
    return _step_move(request, session, visitor, life_event, service, DOWN)


@router.post("/matukio/{slug}/hatua/{service}/ondoa", dependencies=EDIT)
def step_remove(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    life_event: LifeEventFromSlug,
    service: NamedService,
) -> Response:
    return _step_change(
        request,
        life_event,
        lambda: services.step_remove(
            session=session,
            life_event=life_event,
            service=service,
            actor=actor_of(visitor),
            now=_now(),
        ),
    )


# The synonym list.


@router.get("/visawe", response_class=HTMLResponse, dependencies=EDIT)
def synonyms(request: Request, session: DbSession) -> HTMLResponse:
    rows = catalogue_selectors.synonym_list(session=session)
    return _page(request, "curation/synonyms.html", rows=rows)


def _synonym_values(synonym: Synonym) -> dict[str, str]:
    return {
        "terms": ", ".join(synonym.terms),
        "kind": "one_way" if synonym.one_way else "mutual",
        "note": synonym.note or "",
    }


def _synonym_form(
    request: Request, form_input: FormInput[Any], synonym_id: int | None
) -> HTMLResponse:
    return _page(request, "curation/synonym_form.html", form_input, synonym_id=synonym_id)


@router.get("/visawe/mpya", response_class=HTMLResponse, dependencies=EDIT)
def synonym_new(request: Request) -> HTMLResponse:
    return _synonym_form(request, form_blank({"kind": "mutual"}), None)


@router.post("/visawe/mpya", dependencies=EDIT)
def synonym_create(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    form_input: Annotated[FormInput[SynonymForm], _form(SynonymForm)],
) -> Response:
    if form_input.data is None:
        return _synonym_form(request, form_input, None)
    services.synonym_add(
        session=session, entry=form_input.data.entry(), actor=actor_of(visitor), now=_now()
    )
    return redirect_after_post("/simamia/visawe")


@router.get("/visawe/{synonym_id}", response_class=HTMLResponse, dependencies=EDIT)
def synonym_edit(request: Request, synonym: SynonymFromId) -> HTMLResponse:
    return _synonym_form(request, form_blank(_synonym_values(synonym)), synonym.id)


def _synonym_change(
    request: Request,
    session: Session,
    visitor: SignedIn,
    synonym_id: int,
    form_input: FormInput[SynonymForm] | None,
) -> Response:
    try:
        services.synonym_change(
            session=session,
            synonym_id=synonym_id,
            entry=form_input.data.entry() if form_input and form_input.data else None,
            actor=actor_of(visitor),
            now=_now(),
        )
    except CurationRefused as refusal:
        return _refused(request, refusal.reason, "/simamia/visawe")
    return redirect_after_post("/simamia/visawe")


@router.post("/visawe/{synonym_id}", dependencies=EDIT)
def synonym_update(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    synonym_id: RowId,
    form_input: Annotated[FormInput[SynonymForm], _form(SynonymForm)],
) -> Response:
    """Change one entry; an entry changed meanwhile (a new id) is refused, not overwritten."""
    if form_input.data is None:
        return _synonym_form(request, form_input, synonym_id)
    return _synonym_change(request, session, visitor, synonym_id, form_input)


@router.get("/visawe/{synonym_id}/futa", response_class=HTMLResponse, dependencies=EDIT)
def synonym_delete_confirm(request: Request, synonym: SynonymFromId) -> HTMLResponse:
    return _page(request, "curation/synonym_delete.html", synonym=synonym)


@router.post("/visawe/{synonym_id}/futa", dependencies=EDIT)
def synonym_delete(
    request: Request, session: DbSession, visitor: SignedIn, synonym_id: RowId
) -> Response:
    return _synonym_change(request, session, visitor, synonym_id, None)


# The services featured on the home page.

FEATURED_PATH = "/simamia/zilizoangaziwa"


def _featured_page(request: Request, session: Session, form_input: FormInput[Any]) -> HTMLResponse:
    featured = selectors.featured_services(session=session)
    choices = selectors.service_choices(session=session, leaving_out=featured)
    context: dict[str, Any] = {
        "featured": featured,
        "choices": choices,
        "limit": selectors.FEATURED_MAX,
    }
    return _page(request, "curation/featured.html", form_input, **context)


@router.get("/zilizoangaziwa", response_class=HTMLResponse, dependencies=EDIT)
def featured(request: Request, session: DbSession) -> HTMLResponse:
    return _featured_page(request, session, form_blank())


@router.post("/zilizoangaziwa", dependencies=EDIT)
def featured_add(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    form_input: Annotated[FormInput[ServicePick], _form(ServicePick)],
) -> Response:
    form_input, service = _chosen_service(session, form_input)
    if service is None:
        return _featured_page(request, session, form_input)
    try:
        services.featured_add(session=session, service=service, actor=actor_of(visitor), now=_now())
    except CurationRefused as refusal:
        message = (
            N_("This service is already featured")
            if refusal.reason == "already_featured"
            else N_("Six services are featured already: remove one first")
        )
        return _featured_page(request, session, form_input.with_error("service", message))
    return redirect_after_post(FEATURED_PATH)


def _featured_change(request: Request, change: Callable[[], object]) -> Response:
    try:
        change()
    except CurationRefused as refusal:
        if refusal.reason != "at_the_end":
            return _refused(request, refusal.reason, FEATURED_PATH)
    return redirect_after_post(FEATURED_PATH)


@router.post("/zilizoangaziwa/{service}/juu", dependencies=EDIT)
def featured_up(
    request: Request, session: DbSession, visitor: SignedIn, service: NamedService
) -> Response:
    return _featured_change(
        request,
        lambda: services.featured_move(
            session=session, service=service, direction=UP, actor=actor_of(visitor), now=_now()
        ),
    )


@router.post("/zilizoangaziwa/{service}/chini", dependencies=EDIT)
def featured_down(
    request: Request, session: DbSession, visitor: SignedIn, service: NamedService
) -> Response:
    return _featured_change(
        request,
        lambda: services.featured_move(
            session=session, service=service, direction=DOWN, actor=actor_of(visitor), now=_now()
        ),
    )


@router.post("/zilizoangaziwa/{service}/ondoa", dependencies=EDIT)
def featured_remove(
    request: Request, session: DbSession, visitor: SignedIn, service: NamedService
) -> Response:
    return _featured_change(
        request,
        lambda: services.featured_remove(
            session=session, service=service, actor=actor_of(visitor), now=_now()
        ),
    )


# Published services: their review dates, and their status.


@router.get("/huduma", response_class=HTMLResponse, dependencies=EDIT)
def service_list(request: Request, session: DbSession) -> HTMLResponse:
    """Published services, those due for review first: to find one whose status to set."""
    form_input, institution = _institution_chosen(session, _filters(request, ServiceFilter))
    today = _now().date()
    overdue = form_input.data is not None and form_input.data.muda == "umepita"
    rows = selectors.services_to_review(
        session=session, institution=institution, overdue_by=today if overdue else None
    )
    status = FILTER_INVALID_STATUS if form_input.errors else 200
    context: dict[str, Any] = {"rows": rows, "institutions": _institutions(session), "today": today}
    return _page(request, "curation/services.html", form_input, status=status, **context)


def _status_form(
    request: Request, session: Session, service: Service, form_input: FormInput[Any]
) -> HTMLResponse:
    assert service.id is not None
    open_draft = publishing_services.draft_open_of(session=session, service_id=service.id)
    context: dict[str, Any] = {"service": service, "open_draft": open_draft}
    return _page(request, "curation/status.html", form_input, **context)


@router.get("/huduma/{slug}/hali", response_class=HTMLResponse, dependencies=EDIT)
def service_status(request: Request, session: DbSession, service: ServiceFromSlug) -> HTMLResponse:
    alert = service.alert or {}
    values = {
        "status": service.status,
        "alert_sw": alert.get("sw", ""),
        "alert_en": alert.get("en", ""),
    }
    return _status_form(request, session, service, form_blank(values))


@router.post("/huduma/{slug}/hali", dependencies=EDIT)
def service_status_set(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    service: ServiceFromSlug,
    form_input: Annotated[FormInput[StatusForm], _form(StatusForm)],
) -> Response:
    """Open, close for a while or retire a service, with a notice, on the live record."""
    if form_input.data is None:
        return _status_form(request, session, service, form_input)
    try:
        services.service_status_set(
            session=session,
            service=service,
            status=form_input.data.status,
            alert=form_input.data.alert(),
            actor=actor_of(visitor),
            now=_now(),
        )
    except CurationRefused:
        message = N_("The service's record is not complete: a publisher must correct it first")
        return _status_form(request, session, service, form_input.with_error("", message))
    return redirect_after_post(f"/huduma/{service.slug}")


# The audit log: read only.


@router.get("/kumbukumbu", response_class=HTMLResponse, dependencies=AUDIT)
def audit_log(request: Request, session: DbSession) -> HTMLResponse:
    """Who changed what and when, newest first, filtered; nothing here changes it."""
    form_input, institution = _institution_chosen(session, _filters(request, AuditFilter))
    data = form_input.data
    if form_input.errors or data is None:
        page = None
    else:
        page = selectors.audit_page(
            session=session,
            number=data.ukurasa,
            entity=data.aina,
            action=data.kitendo,
            institution=institution.slug if institution else None,
            entity_key=data.ufunguo,
        )
        if page.number > 1 and not page.entries:
            raise HTTPException(status_code=404)
    query = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key in ("aina", "kitendo", "taasisi", "ufunguo")
    ]
    context: dict[str, Any] = {
        "page": page,
        "query": query,
        "institutions": _institutions(session),
        "changes_of": selectors.entry_changes,
    }
    status = FILTER_INVALID_STATUS if form_input.errors else 200
    return _page(request, "curation/audit.html", form_input, status=status, **context)
