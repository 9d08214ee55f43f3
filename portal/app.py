"""`create_app(settings)`: the one place that wires settings, database, pages and middleware."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse
from starlette.middleware.gzip import GZipMiddleware

from portal.bus.connect import bus_client_create
from portal.bus.routes import router as bus_router
from portal.catalogue.routes import router as catalogue_router
from portal.config import STATIC_DIR, TEMPLATES_DIR, Settings
from portal.curation.routes import router as curation_router
from portal.db import engine_create
from portal.feedback.routes import router as feedback_router
from portal.identity.dependencies import identify
from portal.identity.provider import provider_origins, relying_party_create
from portal.identity.routes import router as identity_router
from portal.publishing.bulk_routes import router as bulk_router
from portal.publishing.routes import router as publishing_router
from portal.search import routes as search_routes
from portal.search.backend import backend_create
from portal.site.routes import router as site_router
from portal.web.assets import Assets
from portal.web.csrf import csrf_protect
from portal.web.errors import error_handlers_install
from portal.web.i18n import check_lang_parameter
from portal.web.ratelimit import RateLimiter
from portal.web.redaction import access_log_redact
from portal.web.security import SecurityHeadersMiddleware
from portal.web.templating import environment_create

# What anyone may do, per client address and worker: 10 feedback forms in 10 minutes; 30 steps
# of signing in or out (each sign-in is two), as many people may share one mobile network address;
# 20 hand-offs to institutions (each one may open an application there).
RATE_LIMITS = {"feedback": (10, 600.0), "sign_in": (30, 600.0), "service_start": (20, 600.0)}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level.upper())
    access_log_redact()
    engine = engine_create(settings.database.url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # One bus client (its connections and token) per run of the app.
        app.state.bus_client = bus_client_create(settings)
        yield
        if app.state.relying_party is not None:
            app.state.relying_party.close()
        if app.state.bus_client is not None:
            app.state.bus_client.close()
            app.state.bus_client = None
        engine.dispose()

    app = FastAPI(
        title="Mlango",
        description="The catalogue of Tanzania's government e-services.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(check_lang_parameter), Depends(csrf_protect), Depends(identify)],
    )
    assets = Assets(STATIC_DIR)
    app.state.settings = settings
    app.state.engine = engine
    app.state.bind = engine  # where request sessions come from (tests: one connection)
    app.state.assets = assets
    app.state.search = backend_create(settings)
    app.state.rate_limiter = RateLimiter(RATE_LIMITS)
    app.state.relying_party = relying_party_create(settings)
    app.state.bus_client = None  # made at start-up (see lifespan)
    app.state.templates = environment_create(templates_dir=TEMPLATES_DIR, assets=assets)

    # A plain route, outside the app-wide dependencies: a stylesheet needs no session lookup,
    # no database and no CSRF check.
    def static_file(request: Request) -> FileResponse:
        return assets.response(request.path_params["name"])

    app.router.add_route("/static/{name:path}", static_file, include_in_schema=False)

    app.include_router(site_router)
    app.include_router(catalogue_router)
    app.include_router(search_routes.pages)
    app.include_router(search_routes.api)
    app.include_router(feedback_router)
    app.include_router(identity_router)
    app.include_router(bus_router)
    app.include_router(bulk_router)
    app.include_router(publishing_router)
    app.include_router(curation_router)
    error_handlers_install(app)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.production,
        # Browsers check form-action on the redirects after a post: signing out goes on to the
        # provider, starting a service to the institution's own system.
        form_targets=(*provider_origins(settings), *settings.bus.launch_origin_list),
    )
    return app
