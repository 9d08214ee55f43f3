"""Search insights: what people searched for, how many results they got, whether they clicked.

Only the normalised query text and a day are kept: no address, no session, nothing personal.
"""

import datetime as dt

from sqlmodel import Field, SQLModel

from portal import db  # noqa: F401  (applies the constraint naming convention first)


class SearchLog(SQLModel, table=True):
    __tablename__ = "search_log"

    id: int | None = Field(default=None, primary_key=True)
    query: str = Field(max_length=200, index=True)
    results: int
    clicked: bool = False
    day: dt.date = Field(index=True)
