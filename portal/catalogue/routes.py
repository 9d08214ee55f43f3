"""Citizen pages of the catalogue: services, institutions, categories and life events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from portal.bus import selectors as bus_selectors
from portal.catalogue import selectors
from portal.catalogue.dependencies import (
    CategoryFromSlug,
    InstitutionFromSlug,
    LifeEventFromSlug,
    ServiceFromSlug,
)
from portal.catalogue.jsonld import service_json_ld
from portal.catalogue.models import Category, Institution, LifeEvent
from portal.db import DbSession
from portal.web.i18n import locale_for
from portal.web.pagination import PAGE_SIZE, PageNumber, page_check
from portal.web.templating import render

router = APIRouter(include_in_schema=False)
JOURNEY_MAX = 50  # steps of a life event shown with the person's progress


@router.get("/huduma/{slug}", response_class=HTMLResponse)
def service_page(request: Request, service: ServiceFromSlug) -> HTMLResponse:
    settings = request.app.state.settings
    page_url = f"{settings.base_url.rstrip('/')}/huduma/{service.slug}"
    json_ld = service_json_ld(service=service, page_url=page_url, locale=locale_for(request))
    # Started through Mlango when it goes through GovESB and this installation has a bus.
    through_mlango = service.launch_mode == "govesb" and request.app.state.bus_client is not None
    context = {"service": service, "json_ld": json_ld, "through_mlango": through_mlango}
    return render(request, "catalogue/service.html", context)


@router.get("/taasisi", response_class=HTMLResponse)
def institution_list_page(request: Request, session: DbSession) -> HTMLResponse:
    institutions = selectors.institution_list(session=session)
    return render(request, "catalogue/institution_list.html", {"institutions": institutions})


@router.get("/makundi", response_class=HTMLResponse)
def category_list_page(request: Request, session: DbSession) -> HTMLResponse:
    categories = selectors.category_list(session=session)
    context = {"terms": categories, "kind": "category", "path": "/makundi"}
    return render(request, "catalogue/term_list.html", context)


@router.get("/matukio", response_class=HTMLResponse)
def life_event_list_page(request: Request, session: DbSession) -> HTMLResponse:
    life_events = selectors.life_event_list(session=session)
    context = {"terms": life_events, "kind": "life_event", "path": "/matukio"}
    return render(request, "catalogue/term_list.html", context)


def _services_page(
    request: Request,
    session: DbSession,
    template: str,
    number: int,
    owner: Institution | Category | LifeEvent,
    **context: Any,
) -> HTMLResponse:
    page = selectors.service_page(
        session=session,
        number=number,
        size=PAGE_SIZE,
        institution=owner if isinstance(owner, Institution) else None,
        category=owner if isinstance(owner, Category) else None,
        life_event=owner if isinstance(owner, LifeEvent) else None,
    )
    page_check(number=number, count=page.count)
    return render(request, template, {"owner": owner, "page": page, **context})


@router.get("/taasisi/{slug}", response_class=HTMLResponse)
def institution_page(
    request: Request, session: DbSession, institution: InstitutionFromSlug, number: PageNumber = 1
) -> HTMLResponse:
    return _services_page(request, session, "catalogue/institution.html", number, institution)


@router.get("/makundi/{slug}", response_class=HTMLResponse)
def category_page(
    request: Request, session: DbSession, category: CategoryFromSlug, number: PageNumber = 1
) -> HTMLResponse:
    return _services_page(
        request, session, "catalogue/term.html", number, category, kind="category", path="/makundi"
    )


@router.get("/matukio/{slug}", response_class=HTMLResponse)
def life_event_page(
    request: Request, session: DbSession, life_event: LifeEventFromSlug, number: PageNumber = 1
) -> HTMLResponse:
    """The services of a life event; a signed-in person also sees where they stand on each."""
    progress = None
    visitor = getattr(request.state, "visitor", None)
    if visitor is not None:
        services = selectors.service_page(
            session=session, number=1, size=JOURNEY_MAX, life_event=life_event
        ).items
        progress = bus_selectors.journey(
            session=session, user_id=visitor.user.id, services=services
        )
    return _services_page(
        request,
        session,
        "catalogue/term.html",
        number,
        life_event,
        kind="life_event",
        path="/matukio",
        progress=progress,
    )
