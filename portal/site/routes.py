"""Home, help, accessibility statement, privacy notice and the health endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

from portal.catalogue import selectors as catalogue_selectors
from portal.curation import selectors as curation_selectors
from portal.db import DbSession
from portal.web.templating import render

router = APIRouter(include_in_schema=False)
POPULAR_COUNT = 8


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> HTMLResponse:
    context = {
        "life_events": catalogue_selectors.life_event_list(session=session),
        "categories": catalogue_selectors.category_list(session=session),
        "popular": catalogue_selectors.service_list_popular(session=session, limit=POPULAR_COUNT),
        "featured": curation_selectors.featured_services(session=session, active_only=True),
    }
    return render(request, "site/home.html", context)


@router.get("/msaada", response_class=HTMLResponse)
def help_page(request: Request) -> HTMLResponse:
    return render(request, "site/help.html")


@router.get("/ufikivu", response_class=HTMLResponse)
def accessibility_statement(request: Request) -> HTMLResponse:
    return render(request, "site/accessibility.html")


@router.get("/faragha", response_class=HTMLResponse)
def privacy_notice(request: Request) -> HTMLResponse:
    return render(request, "site/privacy.html")


@router.get("/healthz", include_in_schema=False)
def health(session: DbSession) -> JSONResponse:
    """For load balancers and monitoring: is the process up and the database reachable?"""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
