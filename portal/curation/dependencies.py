"""Who may use the curators' tools, and load-or-404 for what their addresses name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Service, Synonym
from portal.curation import selectors
from portal.curation.schemas import ID_MAX
from portal.db import DbSession
from portal.identity.dependencies import SignedIn, Visitor, require_permission
from portal.publishing.models import Draft
from portal.publishing.services import Actor


def _signed_in_first(visitor: SignedIn) -> None:
    """Sends a visitor who is not signed in to sign in, before any permission is checked."""


def curator_only(permission: str) -> list[Any]:
    """`dependencies=curator_only("curation.edit")`: sign in first, then hold `permission`."""
    return [Depends(_signed_in_first), require_permission(permission)]


def actor_of(visitor: Visitor) -> Actor:
    """The curator as the audit log and review notes name them."""
    return Actor(user_id=visitor.user.id, name=visitor.user.name)


RowId = Annotated[int, Path(ge=1, le=ID_MAX)]


def _draft(draft_id: RowId, session: DbSession) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise HTTPException(status_code=404)
    return draft


def _synonym(synonym_id: RowId, session: DbSession) -> Synonym:
    synonym = selectors.synonym_get(session=session, synonym_id=synonym_id)
    if synonym is None:
        raise HTTPException(status_code=404)
    return synonym


def _named_service(service: str, session: DbSession) -> Service:
    """The service a path names as `{service}` (beside another slug, such as a life event's)."""
    found = catalogue_selectors.service_get(session=session, slug=service)
    if found is None:
        raise HTTPException(status_code=404)
    return found


DraftFromId = Annotated[Draft, Depends(_draft)]
SynonymFromId = Annotated[Synonym, Depends(_synonym)]
NamedService = Annotated[Service, Depends(_named_service)]
