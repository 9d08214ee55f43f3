"""The feedback forms, as the server checks them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from portal.feedback.models import COMMENT_MAX
from portal.web.forms import N_, InvalidInput, Messages
from portal.web.paths import local_path


def page_path(value: str) -> str:
    """The page a form came from, as a local path without its query, or an error."""
    try:
        return local_path(value)
    except ValueError:
        raise InvalidInput(N_("The page this form came from is not a page of Mlango")) from None


PagePath = Annotated[str, AfterValidator(page_path)]
TOO_LONG = N_("Your comment must be %(limit)s characters or fewer")
Words = Field(max_length=COMMENT_MAX)  # free text, scrubbed before it is kept
Comment = Annotated[str, Words, Messages(too_long=TOO_LONG)]
CommentRequired = Annotated[
    str, Words, Messages(missing=N_("Enter your comment"), too_long=TOO_LONG)
]
Message = Annotated[
    str,
    Words,
    Messages(
        missing=N_("Enter your message"),
        too_long=N_("Your message must be %(limit)s characters or fewer"),
    ),
]


class UsefulIn(BaseModel):
    page: PagePath
    useful: Annotated[Literal["yes", "no"], Messages(missing=N_("Select yes or no"))]


class CommentIn(BaseModel):
    comment: CommentRequired


ProblemReason = Literal["wrong", "link", "hard", "other"]


class ProblemIn(BaseModel):
    page: PagePath
    reason: Annotated[ProblemReason, Messages(missing=N_("Select what went wrong"))]
    comment: Comment | None = None


ContactTopic = Literal["missing", "wrong", "accessibility", "other"]


class ContactIn(BaseModel):
    topic: Annotated[ContactTopic, Messages(missing=N_("Select what your message is about"))]
    message: Message
