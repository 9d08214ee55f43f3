"""Who may use the publishing pages, and the institution, service, draft or section a page is
about, each loaded or 404 and checked against the institutions the person publishes for (403).

A page of these tools needs `publishing.edit` (`Publisher`); a visitor who is not signed in is
sent to sign in first. A state-changing route declares `require_permission("publishing.edit")`
itself and takes `SignedIn`; the loaders below check the institution scope for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Institution, Service
from portal.db import DbSession
from portal.identity.dependencies import PermissionDenied, SignedIn, Visitor, require_permission
from portal.publishing import selectors
from portal.publishing.models import Draft
from portal.publishing.schemas import SECTIONS, Section
from portal.web.forms import FieldError, FormInput, FormRefused, form_read, form_validate

PERMISSION = "publishing.edit"
ID_MAX = 2**63 - 1  # the largest row id a database holds; beyond it nothing can be found
SLUG_MAX = 80


def _publisher(
    visitor: SignedIn, _allowed: Annotated[None, require_permission(PERMISSION)]
) -> Visitor:
    """The signed-in person (anyone else signs in first), if they may publish (else 403)."""
    return visitor


Publisher = Annotated[Visitor, Depends(_publisher)]


def _in_scope(visitor: Visitor, institution_slug: str) -> None:
    if not visitor.may_publish_for(institution_slug):
        raise PermissionDenied(PERMISSION)


def _not_found() -> HTTPException:
    return HTTPException(status_code=404)


def _institution(institution: str, session: DbSession, visitor: SignedIn) -> Institution:
    found = (
        catalogue_selectors.institution_get(session=session, slug=institution)
        if len(institution) <= SLUG_MAX
        else None
    )
    if found is None:
        raise _not_found()
    _in_scope(visitor, found.slug)
    return found


def _service(slug: str, session: DbSession, visitor: SignedIn) -> Service:
    found = (
        catalogue_selectors.service_get(session=session, slug=slug)
        if len(slug) <= SLUG_MAX
        else None
    )
    if found is None:
        raise _not_found()
    _in_scope(visitor, found.institution.slug)
    return found


@dataclass(frozen=True)
class DraftInScope:
    draft: Draft
    institution: Institution


def _draft(draft_id: str, session: DbSession, visitor: SignedIn) -> DraftInScope:
    number = (
        int(draft_id) if draft_id.isascii() and draft_id.isdigit() and len(draft_id) <= 19 else 0
    )
    found = selectors.draft_get(session=session, draft_id=number) if 0 < number <= ID_MAX else None
    if found is None:
        raise _not_found()
    draft, institution = found
    _in_scope(visitor, institution.slug)
    return DraftInScope(draft=draft, institution=institution)


InstitutionInScope = Annotated[Institution, Depends(_institution)]
ServiceInScope = Annotated[Service, Depends(_service)]
DraftFromId = Annotated[DraftInScope, Depends(_draft)]


def _section(section: str) -> Section:
    found = SECTIONS.get(section)
    if found is None:
        raise _not_found()
    return found


SectionFromSlug = Annotated[Section, Depends(_section)]


async def _section_form(request: Request, section: SectionFromSlug) -> FormInput[Any]:
    """The posted form, checked against the section's own form model."""
    try:
        submitted = await form_read(request)
    except FormRefused as refusal:
        return FormInput(data=None, errors=[FieldError("", refusal.msgid)], values={})
    return form_validate(section.form, submitted)


SectionForm = Annotated[FormInput[Any], Depends(_section_form)]
