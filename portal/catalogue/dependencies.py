"""Load-or-404 dependencies for catalogue pages."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException

from portal.catalogue import selectors
from portal.catalogue.models import Category, Institution, LifeEvent, Service
from portal.db import DbSession

T = TypeVar("T")


def _found(row: T | None) -> T:
    if row is None:
        raise HTTPException(status_code=404)
    return row


def _service(slug: str, session: DbSession) -> Service:
    return _found(selectors.service_get(session=session, slug=slug))


def _institution(slug: str, session: DbSession) -> Institution:
    return _found(selectors.institution_get(session=session, slug=slug))


def _category(slug: str, session: DbSession) -> Category:
    return _found(selectors.category_get(session=session, slug=slug))


def _life_event(slug: str, session: DbSession) -> LifeEvent:
    return _found(selectors.life_event_get(session=session, slug=slug))


ServiceFromSlug = Annotated[Service, Depends(_service)]
InstitutionFromSlug = Annotated[Institution, Depends(_institution)]
CategoryFromSlug = Annotated[Category, Depends(_category)]
LifeEventFromSlug = Annotated[LifeEvent, Depends(_life_event)]
