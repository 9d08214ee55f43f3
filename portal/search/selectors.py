"""Reads of search insights."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.search.models import SearchLog


def zero_result_queries(*, session: Session, since: dt.date, limit: int) -> list[tuple[str, int]]:
    """Queries that found nothing since a day, most frequent first."""
    statement = (
        select(SearchLog.query, func.count())
        .where(SearchLog.results == 0, col(SearchLog.day) >= since, SearchLog.query != "")
        .group_by(col(SearchLog.query))
        .order_by(func.count().desc(), col(SearchLog.query))
        .limit(limit)
    )
    return [(query, count) for query, count in session.exec(statement).all()]
