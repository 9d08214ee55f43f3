"""A demo institution system as an ASGI app, and a helper to serve it with uvicorn."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException

from portal.sandbox.idp.pages import SecurityHeadersMiddleware
from portal.sandbox.institutions.config import SANDBOX, InstitutionConfig
from portal.sandbox.institutions.pages import CONTENT_SECURITY_POLICY, Pages
from portal.sandbox.institutions.pushes import StatusPusher
from portal.sandbox.institutions.routes import Institution, router
from portal.sandbox.institutions.store import InstitutionStore
from portal.sandbox.serving import environment_refuse, sandbox_serve

logger = logging.getLogger("portal.sandbox.institutions")


def institution_banner(config: InstitutionConfig) -> str:
    """What the institution says when it starts: what it is, where, and what it forgets."""
    lines = [
        f"{config.name.en} (demo system): DEVELOPMENT ONLY, not the real institution.",
        f"  address     {config.base_url}",
        f"  hand-off    {config.base_url}/esb/hand-off (the provider URL of its api codes)",
        f"  api codes   {', '.join(s.api_code for s in config.services)}",
        f"  pushes      {config.push_code} through {config.bus.base_url}",
        f"  office      {config.base_url}/ofisi (no sign-in: sandbox only)",
        "  state       applications, launch links and sessions live in this process's memory",
        "              only: they are lost when it stops.",
    ]
    return "\n".join(lines)


def create_institution_app(config: InstitutionConfig) -> FastAPI:
    """One demo institution system; refuses to exist outside development and test."""
    environment_refuse(config.environment, SANDBOX)
    store = InstitutionStore(config)
    pusher = StatusPusher(config=config, store=store)
    pages = Pages(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pusher.start()
        logger.info(
            "demo institution %s up at %s (state in memory only)", config.slug, config.base_url
        )
        try:
            yield
        finally:
            pusher.stop()

    app = FastAPI(
        title=f"{config.name.en} (demo)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.institution = Institution(
        config=config,
        store=store,
        pusher=pusher,
        pages=pages,
        office_token=secrets.token_urlsafe(32),
    )
    app.include_router(router)

    async def http_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            return pages.message("not_found", status=404)
        return PlainTextResponse(str(error.detail), status_code=error.status_code)

    app.add_exception_handler(HTTPException, http_error)
    app.add_middleware(SecurityHeadersMiddleware, policy=CONTENT_SECURITY_POLICY)
    return app


def institution_serve(
    config: InstitutionConfig,
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    log_level: str = "info",
) -> None:
    """Serve the institution until stopped, on loopback only; `port` defaults to the one its
    base URL names. The access log is off: a launch URL carries its one-time token."""
    environment_refuse(config.environment, SANDBOX)
    base_port = urlsplit(config.base_url).port
    port = port if port is not None else base_port or 80
    banner = institution_banner(config)
    if base_port is not None and base_port != port:
        banner += f"\n  warning     the base URL names port {base_port}, but this listens on {port}"
    sandbox_serve(
        create_institution_app(config),
        sandbox=SANDBOX,
        banner=banner,
        host=host,
        port=port,
        log_level=log_level,
    )
