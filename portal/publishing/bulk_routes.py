"""Pages of bulk import and export: upload a file of service records, read its report, download
the template, the column list and the published services.

Every page needs `publishing.edit` and reaches only the institutions the person publishes for
(curators: all). Signing in comes first on the pages, so a visitor who has not signed in is
sent to sign in rather than refused. The upload is the one route here that takes a file: it
declares its own form limits (from the settings), so the CSRF guard reads the file within them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Institution
from portal.config import PublishingSettings
from portal.db import DbSession
from portal.identity.dependencies import PermissionDenied, SignedIn, Visitor, require_permission
from portal.identity.permissions import EVERY_INSTITUTION
from portal.publishing import bulk
from portal.publishing.services import Actor, DraftRefused, DraftStale
from portal.web.forms import (
    FILE_TOO_LARGE,
    N_,
    FieldError,
    FileUpload,
    FormInput,
    FormLimits,
    form_file,
    form_limits,
    redirect_after_post,
    size_text,
)
from portal.web.templating import render

router = APIRouter(include_in_schema=False)
PERMISSION = "publishing.edit"
EVERYTHING = "yote"  # in place of an institution: the whole catalogue (curators)
FILE_FIELD = "file"
ROW_PROBLEMS = N_("Row %(row)s, %(slug)s: check %(fields)s")
RECORD_PROBLEMS = N_("Service %(row)s, %(slug)s: check %(fields)s")
MULTIPART_ALLOWANCE = 64 * 1024  # the form's other fields and the parts' headers, beyond the file
CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _settings(request: Request) -> PublishingSettings:
    settings: PublishingSettings = request.app.state.settings.publishing
    return settings


def _signed_in(visitor: SignedIn) -> None:
    """Listed before the permission on pages: sign in first, then be refused or let in."""


PAGE = [Depends(_signed_in), require_permission(PERMISSION)]


def _reaches_all(visitor: Visitor) -> bool:
    return bool(visitor.roles & EVERY_INSTITUTION)


def _institution_in_scope(institution: str, visitor: SignedIn, session: DbSession) -> Institution:
    """The institution of the path, if the person publishes for it (403 if not, 404 if none)."""
    if not visitor.may_publish_for(institution):
        raise PermissionDenied(PERMISSION)
    found = catalogue_selectors.institution_get(session=session, slug=institution)
    if found is None:
        raise HTTPException(status_code=404)
    return found


InstitutionInScope = Annotated[Institution, Depends(_institution_in_scope)]


def _upload_limits(request: Request) -> FormLimits:
    return FormLimits(
        max_fields=10,
        max_files=1,
        max_body=_settings(request).import_max_bytes + MULTIPART_ALLOWANCE,
    )


async def _upload(request: Request) -> FileUpload | FieldError:
    return await form_file(request, FILE_FIELD, max_bytes=_settings(request).import_max_bytes)


def _download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _import_page(
    request: Request,
    institution: Institution,
    *,
    report: bulk.ImportReport | None = None,
    problems: list[FieldError] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The upload page; after a refused file, with its report (the summary links each bad row)."""
    errors = list(problems or [])
    if report is not None:
        errors += report.errors
        summary = ROW_PROBLEMS if report.format == "csv" else RECORD_PROBLEMS
        for row in report.bad_rows:
            fields = ", ".join(dict.fromkeys(error.field or "-" for error in row.errors))
            errors.append(
                FieldError(
                    f"row-{row.number}",
                    summary,
                    {"row": row.number, "slug": row.slug or "-", "fields": fields},
                )
            )
    form_input: FormInput[Any] = FormInput(data=None, errors=errors, values={})
    limits = _settings(request)
    context = {
        "institution": institution,
        "report": report,
        "form_input": form_input,
        "file_error": next((e for e in errors if e.field == FILE_FIELD), None),
        "max_size": size_text(limits.import_max_bytes),
        "max_rows": limits.import_max_rows,
    }
    return render(request, "publishing/import.html", context, status=status)


@router.get("/chapisha/safu", response_class=HTMLResponse, dependencies=PAGE)
def import_columns(request: Request, session: DbSession) -> HTMLResponse:
    """The documented column list of the CSV format, with an example of each column."""
    categories = catalogue_selectors.category_list(session=session)
    example = bulk.record_row(
        bulk.example_record(
            institution="rita",
            category=categories[0][0].slug if categories else "utambulisho-na-usajili",
            today=_now().date(),
        )
    )
    limits = _settings(request)
    context = {
        "columns": bulk.COLUMNS,
        "example": example,
        "choices": bulk.column_choices(),
        "max_size": size_text(limits.import_max_bytes),
        "max_rows": limits.import_max_rows,
    }
    return render(request, "publishing/import_columns.html", context)


@router.get("/chapisha/{institution}/ingiza", response_class=HTMLResponse, dependencies=PAGE)
def import_form(request: Request, institution: InstitutionInScope) -> HTMLResponse:
    return _import_page(request, institution)


@router.post(
    "/chapisha/{institution}/ingiza",
    dependencies=[require_permission(PERMISSION)],
)
@form_limits(_upload_limits)
def import_send(
    request: Request,
    session: DbSession,
    visitor: SignedIn,
    institution: InstitutionInScope,
    upload: Annotated[FileUpload | FieldError, Depends(_upload)],
) -> Response:
    """Check the file whole; if every row is right, make all its drafts at once."""
    if isinstance(upload, FieldError):
        status = 413 if upload.msgid == FILE_TOO_LARGE else 422
        return _import_page(request, institution, problems=[upload], status=status)
    limits = _settings(request)
    now = _now()
    report = bulk.file_read(
        filename=upload.filename,
        content=upload.content,
        institution=institution.slug,
        max_bytes=limits.import_max_bytes,
        max_rows=limits.import_max_rows,
        today=now.date(),
    )
    bulk.import_check(
        session=session,
        report=report,
        institution=institution,
        every_institution=_reaches_all(visitor),
    )
    if not report.ok:
        too_large = any(error.msgid == FILE_TOO_LARGE for error in report.errors)
        return _import_page(request, institution, report=report, status=413 if too_large else 422)
    actor = Actor(user_id=visitor.user.id, name=visitor.user.name)
    try:
        reference, _made = bulk.import_apply(
            session=session, report=report, actor=actor, institution=institution, now=now
        )
    except (DraftRefused, DraftStale):
        # Someone changed a draft or a service since the check: keep none of this import.
        session.rollback()
        report.refuse(bulk.CHANGED_MEANWHILE)
        return _import_page(request, institution, report=report, status=409)
    return redirect_after_post(f"/chapisha/{institution.slug}/ingiza/{reference}")


@router.get(
    "/chapisha/{institution}/ingiza/{reference}", response_class=HTMLResponse, dependencies=PAGE
)
def import_done(
    request: Request, session: DbSession, institution: InstitutionInScope, reference: str
) -> HTMLResponse:
    """What an import made: its drafts, each new, a change, or the same as published."""
    result = bulk.import_result(session=session, reference=reference, institution=institution)
    if result is None:
        raise HTTPException(status_code=404)
    context = {"institution": institution, "result": result}
    return render(request, "publishing/import_result.html", context)


@router.get("/chapisha/{institution}/kiolezo.csv", dependencies=PAGE)
def import_template(session: DbSession, institution: InstitutionInScope) -> Response:
    """The CSV template: the header and one example row, for this institution."""
    categories = catalogue_selectors.category_list(session=session)
    content = bulk.csv_template(
        institution=institution.slug,
        category=categories[0][0].slug if categories else "utambulisho-na-usajili",
        today=_now().date(),
    )
    return _download(content, f"mlango-kiolezo-{institution.slug}.csv", CSV_TYPE)


def _exported(session: DbSession, visitor: Visitor, institution: str) -> tuple[str, list[Any]]:
    """The records to export, and the name of the file: one institution's, or all (curators)."""
    if institution == EVERYTHING:
        if not _reaches_all(visitor):
            raise PermissionDenied(PERMISSION)
        found = None
    else:
        found = _institution_in_scope(institution, visitor, session)
    services = bulk.export_services(session=session, institution=found)
    name = f"mlango-huduma-{institution}-{_now().date().isoformat()}"
    return name, bulk.export_records(services)


@router.get("/chapisha/{institution}/hamisha.csv", dependencies=PAGE)
def export_csv(session: DbSession, visitor: SignedIn, institution: str) -> Response:
    """The published services of the institution (or `yote`: every one) as CSV to import."""
    name, records = _exported(session, visitor, institution)
    return _download(bulk.csv_export(records), f"{name}.csv", CSV_TYPE)


@router.get("/chapisha/{institution}/hamisha.json", dependencies=PAGE)
def export_json(session: DbSession, visitor: SignedIn, institution: str) -> Response:
    """The same as JSON records."""
    name, records = _exported(session, visitor, institution)
    return _download(bulk.json_export(records), f"{name}.json", JSON_TYPE)
