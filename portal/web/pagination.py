"""The page-number query parameter shared by every paged list."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Query

PAGE_SIZE = 20
MAX_PAGE = 10_000

PageNumber = Annotated[int, Query(alias="ukurasa", ge=1, le=MAX_PAGE)]


def page_check(*, number: int, count: int) -> None:
    """A page past the last one does not exist."""
    if number > count:
        raise HTTPException(status_code=404)
