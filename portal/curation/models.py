"""Tables of curation: the services featured on the home page, in the curators' order.

SQLModel resolves relationship annotations at class creation, so this module does not use
`from __future__ import annotations`.
"""

import datetime as dt

from sqlmodel import Field, SQLModel

from portal import db  # noqa: F401  (applies the constraint naming convention first)


class FeaturedService(SQLModel, table=True):
    __tablename__ = "featured_service"

    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")
    position: int = Field(index=True)
    featured_at: dt.datetime
    featured_by: str = Field(max_length=200)
