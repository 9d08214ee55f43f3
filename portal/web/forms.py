"""Server-side validation of HTML forms with pydantic, errors in the reader's language.

The pattern, for every form (GET shows it, POST checks it):

- A pydantic model in the domain's `schemas.py` describes the form. Each field may declare its
  own messages, English msgids marked with `N_`:
  `comment: Annotated[str, Field(max_length=1000), Messages(missing=N_("Enter your comment"))]`.
  Anything a field does not declare gets a plain default, so no pydantic text reaches a reader.
- The GET route renders the page with `{"form_input": form_blank()}`.
- The POST route, a plain `def`, takes
  `Annotated[FormInput[Model], Depends(form_dependency(Model))]`. When `form_input.ok`, it
  calls its service and answers `redirect_after_post(url)` (303). Otherwise it renders the
  same page with `{"form_input": form_input}` and `status=FORM_INVALID_STATUS` (422): the page
  shows the error summary, each field's message and the values as typed, and the layout
  prefixes the title with "Error: ".

Blank strings count as missing and surrounding whitespace is trimmed before validation; the
values kept for the page are the ones typed. Repeated keys (checkboxes) fill `list[...]` fields.
Messages are translated when the page is rendered, so a message may take `%(limit)s`-style
placeholders (write `%%` for a literal percent sign).

Invalid input answers 422, not 200: the request did not do what was asked, so logs, monitoring
and tests can tell a failed submission from a shown page, and browsers render the body as usual.
(A reverse proxy in front must not replace 4xx bodies with its own pages.)

Reading is bounded by `FORM_LIMITS`. The CSRF guard reads every unsafe request's form first, with
the same limits; a form beyond them is refused with `FormRefused` (413, or 400 when unreadable),
shown as an error page, or, where a route reads it first, as a form-level error on the page.

A route that takes a file declares its own limits under its route decorator, with
`@form_limits(FormLimits(max_files=1, ...))` (or a function of the request, for limits from the
settings): the form is read once, by whoever reads it first, so the limits belong to the route,
not to one reader. The route reads its file with `form_file`. Files are read into memory (within
`max_body`) and their spooled files closed as soon as the form is read, so none is left open
when a later check refuses the request.
"""

from __future__ import annotations

import enum
import io
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from babel.numbers import format_decimal
from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import AfterValidator, BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from portal.web import i18n

ModelT = TypeVar("ModelT", bound=BaseModel)
Value = str | list[str]

FORM_INVALID_STATUS = 422


def N_(message: str) -> str:  # the name Babel extracts by default
    """Mark an English message for the catalogue; it is translated when it is shown."""
    return message


@dataclass(frozen=True, kw_only=True)
class Messages:
    """A field's own messages (English msgids marked with `N_`), by kind of problem."""

    missing: str | None = None  # required and blank, or no choice made
    too_long: str | None = None  # more characters than max_length
    too_short: str | None = None  # fewer characters than min_length
    too_many: str | None = None  # more items chosen than max_length
    too_few: str | None = None  # fewer items chosen than min_length
    choice: str | None = None  # not one of the choices offered
    number: str | None = None  # not a number, or not a whole one
    too_big: str | None = None  # above le / lt
    too_small: str | None = None  # below ge / gt
    email: str | None = None  # not an e-mail address
    invalid: str | None = None  # any other problem


@dataclass(frozen=True, kw_only=True)
class FormLimits:
    """How much of a form is read at most; beyond it the form is refused unread."""

    max_fields: int = 100
    max_files: int = 0
    max_part_size: int = 64 * 1024  # bytes per field: far above any text field's max_length
    max_body: int = 256 * 1024  # bytes, checked against Content-Length before reading


FORM_LIMITS = FormLimits()
# A route's own limits: fixed, or worked out per request (e.g. from the settings).
RouteLimits = FormLimits | Callable[[Request], FormLimits]
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
_LIMITS_ATTRIBUTE = "form_limits"

MISSING_TEXT = N_("Enter an answer")
MISSING_CHOICE = N_("Select an option")
MISSING_CHOICES = N_("Select at least one option")
INVALID = N_("Check what you entered")
TOO_LARGE = N_("The form was too large to send. Make your answers shorter and try again.")
UNREADABLE = N_("The form could not be read. Try sending it again.")
FILE_MISSING = N_("Choose a file to upload")
FILE_TOO_LARGE = N_("The file is larger than %(limit)s. Send a smaller file.")

# pydantic error type -> (kind a field may declare, context key of the limit, default message)
_ERRORS: dict[str, tuple[str, str | None, str]] = {
    "string_too_long": ("too_long", "max_length", N_("Enter %(limit)s characters or fewer")),
    "string_too_short": ("too_short", "min_length", N_("Enter at least %(limit)s characters")),
    "too_long": ("too_many", "max_length", N_("Select no more than %(limit)s options")),
    "too_short": ("too_few", "min_length", N_("Select at least %(limit)s options")),
    "literal_error": ("choice", None, N_("Select one of the options")),
    "enum": ("choice", None, N_("Select one of the options")),
    "bool_parsing": ("choice", None, N_("Select one of the options")),
    "int_parsing": ("number", None, N_("Enter a whole number")),
    "int_from_float": ("number", None, N_("Enter a whole number")),
    "float_parsing": ("number", None, N_("Enter a number")),
    "decimal_parsing": ("number", None, N_("Enter a number")),
    "finite_number": ("number", None, N_("Enter a number")),
    "greater_than": ("too_small", "gt", N_("Enter a number greater than %(limit)s")),
    "greater_than_equal": ("too_small", "ge", N_("Enter a number that is %(limit)s or more")),
    "less_than": ("too_big", "lt", N_("Enter a number less than %(limit)s")),
    "less_than_equal": ("too_big", "le", N_("Enter a number that is %(limit)s or less")),
    "email": ("email", None, N_("Enter an email address in the right form, like name@example.com")),
}


class InvalidInput(ValueError):
    """Raise in a validator to show the reader `msgid`; `field` names it in a model validator."""

    def __init__(self, msgid: str, *, field: str | None = None, **params: int | str) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.field = field
        self.params = params


def _email_check(value: str) -> str:
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or not local
        or len(value) > 254
        or any(c.isspace() or c in '<>()[],;:\\"' for c in value)
        or len(labels) < 2
        or not all(labels)
    ):
        raise PydanticCustomError("email", "not an e-mail address")
    return value


EmailAddress = Annotated[str, AfterValidator(_email_check)]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field ("" for the form as a whole), as an untranslated msgid."""

    field: str
    msgid: str
    params: Mapping[str, int | float | str] = dataclass_field(default_factory=dict)

    @property
    def message(self) -> str:
        """The message in the language being rendered."""
        locale = i18n.current_locale()
        shown = {
            key: format_decimal(value, locale=locale) if isinstance(value, int | float) else value
            for key, value in self.params.items()
        }
        return i18n.gettext(self.msgid) % shown

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class FormInput(Generic[ModelT]):
    """A form as submitted: the validated model, or errors in field order; values as typed."""

    data: ModelT | None
    errors: list[FieldError]
    values: dict[str, Value]
    fields: tuple[str, ...] = ()  # the form keys in the model's order

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors

    def value(self, name: str, default: Value = "") -> Value:
        """What the reader typed or chose in `name` (a list for a list field)."""
        return self.values.get(name, default)

    def error(self, name: str) -> FieldError | None:
        return next((error for error in self.errors if error.field == name), None)

    def error_message(self, name: str) -> dict[str, str] | None:
        """The `errorMessage` parameter of the field's component, or None."""
        error = self.error(name)
        return {"text": error.message} if error else None

    @property
    def error_list(self) -> list[dict[str, str]]:
        """The `errorList` parameter of the error summary: each message, linked to its field."""
        return [
            {"text": error.message, "href": f"#{error.field}"}
            if error.field
            else {"text": error.message}
            for error in self.errors
        ]

    def with_error(self, field: str, msgid: str, **params: int | str) -> FormInput[ModelT]:
        """The same input with one more error, e.g. a rule a service checked; no longer ok."""
        errors = [e for e in self.errors if e.field != field or not field]
        errors.append(FieldError(field, msgid, params))
        return replace(self, data=None, errors=_in_order(errors, self.fields))


def _in_order(errors: list[FieldError], fields: tuple[str, ...]) -> list[FieldError]:
    """Errors in the order of the fields; those of the whole form (or unknown keys) first."""
    return sorted(errors, key=lambda e: fields.index(e.field) if e.field in fields else -1)


def form_blank(values: Mapping[str, Value] | None = None) -> FormInput[Any]:
    """A form not yet submitted, optionally filled in, for the GET page."""
    return FormInput(data=None, errors=[], values=dict(values or {}))


def _unwrapped(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [arg for arg in get_args(annotation) if arg is not type(None)]
    return [annotation]


def _is_multi(annotation: Any) -> bool:
    return any(
        get_origin(a) in (list, set, frozenset, tuple) or a in (list, set, frozenset, tuple)
        for a in _unwrapped(annotation)
    )


def _is_choice(annotation: Any) -> bool:
    return any(
        get_origin(a) is Literal or a is bool or (isinstance(a, type) and issubclass(a, enum.Enum))
        for a in _unwrapped(annotation)
    )


def _messages(info: FieldInfo) -> Messages:
    return next((m for m in info.metadata if isinstance(m, Messages)), Messages())


def _cleaned(value: str | UploadFile) -> str | UploadFile | None:
    """Trimmed text, or None when blank; an empty file input counts as blank too."""
    if isinstance(value, str):
        return value.strip() or None
    return value if value.filename or value.size else None


def _collect(
    fields: Mapping[str, FieldInfo], pairs: Iterable[tuple[str, str | UploadFile]]
) -> tuple[dict[str, Any], dict[str, Value]]:
    """The model's input (trimmed, blanks left out) and the values as typed, per form key."""
    grouped: dict[str, list[str | UploadFile]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    data: dict[str, Any] = {}
    values: dict[str, Value] = {}
    for key, info in fields.items():
        sent = grouped.get(key, [])
        if _is_multi(info.annotation):
            values[key] = [value for value in sent if isinstance(value, str)]
            chosen = [c for c in map(_cleaned, sent) if c is not None]
            if chosen:
                data[key] = chosen
        elif sent:  # a repeated key for a single field: the first one counts
            if isinstance(sent[0], str):
                values[key] = sent[0]
            cleaned = _cleaned(sent[0])
            if cleaned is not None:
                data[key] = cleaned
    return data, values


def _field_error(key: str, info: FieldInfo | None, error: Any) -> FieldError:
    kind_type = error["type"]
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, InvalidInput):
        return FieldError(cause.field or key, cause.msgid, cause.params)
    declared = _messages(info) if info else Messages()
    if kind_type == "missing":
        annotation = info.annotation if info else None
        default = (
            MISSING_CHOICES
            if _is_multi(annotation)
            else MISSING_CHOICE
            if _is_choice(annotation)
            else MISSING_TEXT
        )
        return FieldError(key, declared.missing or default)
    if kind_type in _ERRORS:
        kind, limit_key, default = _ERRORS[kind_type]
        params = {"limit": context[limit_key]} if limit_key in context else {}
        return FieldError(key, getattr(declared, kind) or default, params)
    return FieldError(key, declared.invalid or INVALID)


def _key(name: str, info: FieldInfo) -> str:
    return info.alias or name


def form_validate(
    model: type[ModelT], submitted: FormData | Iterable[tuple[str, str | UploadFile]]
) -> FormInput[ModelT]:
    """Validate submitted form items against `model`: one error per field, in field order."""
    fields = {_key(name, info): info for name, info in model.model_fields.items()}
    pairs = submitted.multi_items() if isinstance(submitted, FormData) else submitted
    data, values = _collect(fields, pairs)
    try:
        return FormInput(model.model_validate(data), [], values, tuple(fields))
    except ValidationError as invalid:
        found: dict[str, FieldError] = {}
        for error in invalid.errors(include_url=False):
            key = str(error["loc"][0]) if error["loc"] else ""
            field_error = _field_error(key, fields.get(key), error)
            found.setdefault(field_error.field, field_error)
        errors = _in_order(list(found.values()), tuple(fields))
        return FormInput(None, errors, values, tuple(fields))


class FormRefused(HTTPException):
    """A form that was not read: too large (413), not readable as a form (400), or a file sent
    without its length (411)."""

    def __init__(self, status_code: int, msgid: str) -> None:
        super().__init__(status_code=status_code, detail=msgid)
        self.msgid = msgid


def form_limits(limits: RouteLimits) -> Callable[[EndpointT], EndpointT]:
    """Give a route its own form limits (put it under the route decorator), e.g. to take a file."""

    def declare(endpoint: EndpointT) -> EndpointT:
        setattr(endpoint, _LIMITS_ATTRIBUTE, limits)
        return endpoint

    return declare


def route_form_limits(request: Request) -> FormLimits:
    """The limits of the route answering `request`: its own, or `FORM_LIMITS`."""
    route = request.scope.get("route")
    declared = getattr(getattr(route, "endpoint", None), _LIMITS_ATTRIBUTE, None)
    if declared is None:
        return FORM_LIMITS
    return declared if isinstance(declared, FormLimits) else declared(request)


async def form_read(request: Request, limits: FormLimits | None = None) -> FormData:
    """The request's form, read once within `limits` (by default the route's); raises
    FormRefused (413 or 400, or 411 for a file sent without its length)."""
    refused = getattr(request.state, "form_refused", None)
    if refused is not None:  # the body is gone: refuse again rather than read it twice
        raise refused
    if limits is None:
        limits = route_form_limits(request)
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        length = 0
    try:
        if length > limits.max_body:
            raise FormRefused(413, TOO_LARGE)
        if limits.max_files and "content-length" not in request.headers:
            # Files are not bounded while they are read, only the body's declared length is.
            raise FormRefused(411, UNREADABLE)
        try:
            form = await request.form(
                max_files=limits.max_files,
                max_fields=limits.max_fields,
                max_part_size=limits.max_part_size,
            )
            await _files_in_memory(form)
            return form
        except (MultiPartException, StarletteHTTPException) as error:
            reason = str(getattr(error, "message", None) or getattr(error, "detail", ""))
            # Starlette names every limit it enforces with "maximum"; anything else is malformed.
            too_large = "maximum" in reason.lower()
            raise FormRefused(
                413 if too_large else 400, TOO_LARGE if too_large else UNREADABLE
            ) from error
    except FormRefused as refusal:
        request.state.form_refused = refusal
        raise


def form_dependency(model: type[ModelT]) -> Callable[[Request], Awaitable[FormInput[ModelT]]]:
    """A FastAPI dependency giving the request's form validated against `model`."""

    async def form_input(request: Request) -> FormInput[ModelT]:
        try:
            submitted = await form_read(request)
        except FormRefused as refusal:
            return FormInput(data=None, errors=[FieldError("", refusal.msgid)], values={})
        return form_validate(model, submitted)

    return form_input


async def _files_in_memory(form: FormData) -> None:
    """Hold each file of the form in memory (its size is bounded by the body's) and close the
    spooled file it came in, so nothing is left open whoever ends the request."""
    for _key, value in form.multi_items():
        if isinstance(value, UploadFile) and not isinstance(value.file, io.BytesIO):
            content = await value.read()
            await value.close()
            value.file = io.BytesIO(content)


@dataclass(frozen=True)
class FileUpload:
    """A file sent in a form, read whole."""

    filename: str  # as the browser named it: only its last part, never a path
    content_type: str
    content: bytes


def size_text(size: int) -> str:
    """A number of bytes for a reader: "2 MB", "500 KB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(1, size // 1024)} KB"


async def form_file(request: Request, name: str, *, max_bytes: int) -> FileUpload | FieldError:
    """The file sent in the form key `name`, or the problem with it (none chosen, larger than
    `max_bytes`, or a form that was refused), as a field error of `name`."""
    try:
        form = await form_read(request)
    except FormRefused as refusal:
        return FieldError(name, refusal.msgid)
    sent = form.get(name)
    if not isinstance(sent, UploadFile) or not (sent.filename or sent.size):
        return FieldError(name, FILE_MISSING)
    if sent.size is not None and sent.size > max_bytes:
        return FieldError(name, FILE_TOO_LARGE, {"limit": size_text(max_bytes)})
    content = await sent.read(max_bytes + 1)
    if len(content) > max_bytes:
        return FieldError(name, FILE_TOO_LARGE, {"limit": size_text(max_bytes)})
    filename = (sent.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return FileUpload(filename=filename, content_type=sent.content_type or "", content=content)


def redirect_after_post(url: str) -> RedirectResponse:
    """The answer to a successful POST: 303, so reloading the next page does not resend."""
    return RedirectResponse(url, status_code=303)
