"""Error pages in the reader's language: 400, 404, 500 and the rest, never a traceback."""

from __future__ import annotations

import logging
import secrets
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException

from portal.web.csrf import CsrfRejected
from portal.web.security import security_headers
from portal.web.templating import render

logger = logging.getLogger("portal.errors")
PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    413: "errors/413.html",
    429: "errors/429.html",
    500: "errors/500.html",
}


def error_page(
    request: Request, status: int, detail: str | None = None, *, expired_form: bool = False
) -> Response:
    """An HTML page in the reader's language, or JSON for the API."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail or HTTPStatus(status).phrase}, status_code=status)
    template = PAGES.get(status, "errors/other.html")
    context = {"status": status, "expired_form": expired_form}
    return render(request, template, context, status=status)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if 300 <= error.status_code < 400:  # a dependency that sends the reader elsewhere
        return Response(status_code=error.status_code, headers=error.headers)
    detail = error.detail if isinstance(error.detail, str) else None
    expired_form = isinstance(error, CsrfRejected)
    response = error_page(request, error.status_code, detail, expired_form=expired_form)
    response.headers.update(error.headers or {})
    return response


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in e['loc'][1:])}: {e['msg']}" for e in error.errors()
    )
    return error_page(request, 400, problems)


async def _server_error(request: Request, error: Exception) -> Response:
    # Runs outside the other middleware: it adds the security headers itself.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    nonce = getattr(request.state, "csp_nonce", None) or secrets.token_urlsafe(16)
    request.state.csp_nonce = nonce
    hsts = request.app.state.settings.production
    try:
        response: Response = error_page(request, 500)
    except Exception:  # the page itself failed to render: say so plainly
        logger.exception("the 500 page could not be rendered")
        response = PlainTextResponse("500: Hitilafu ya mfumo / Server error", status_code=500)
    response.headers.update(security_headers(nonce, hsts=hsts))
    response.headers["Cache-Control"] = "no-store"
    return response


def error_handlers_install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _server_error)
