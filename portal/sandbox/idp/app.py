"""The sandbox provider as an ASGI app, and a helper to serve it with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI

from portal.sandbox.idp.config import SANDBOX, IdpConfig
from portal.sandbox.idp.pages import Pages, SecurityHeadersMiddleware, content_security_policy
from portal.sandbox.idp.provider import Provider
from portal.sandbox.idp.routes import router
from portal.sandbox.serving import environment_refuse, sandbox_serve

logger = logging.getLogger("portal.sandbox.idp")


def idp_banner(config: IdpConfig) -> str:
    """What the provider says when it starts: what it is, where, and what it forgets."""
    clients = ", ".join(c.client_id for c in config.clients) or "none"
    lines = [
        "NIDA sandbox OpenID provider: DEVELOPMENT ONLY, this is not the real NIDA.",
        f"  issuer      {config.issuer}",
        f"  discovery   {config.issuer}/.well-known/openid-configuration",
        f"  clients     {clients}",
        f"  citizens    {config.issuer}/dev/citizens (made-up people)",
        "  state       sessions, codes, tokens and lockouts live in this process's memory",
        "              only: they are lost when it stops, and each process has its own.",
    ]
    if config.otp_echo:
        lines.append("  codes       one-time codes are printed here and shown on the sign-in page")
    if config.headless_login:
        lines.append("  headless    a login_hint carrying a demo NIN signs in without pages")
    return "\n".join(lines)


def create_idp_app(config: IdpConfig) -> FastAPI:
    """The sandbox national-ID provider; refuses to exist in production."""
    environment_refuse(config.environment, SANDBOX)
    provider = Provider(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("sandbox provider up at %s (state in memory only)", config.issuer)
        yield

    app = FastAPI(
        title="NIDA sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.provider = provider
    app.state.pages = Pages()
    app.include_router(router)
    app.add_middleware(SecurityHeadersMiddleware, policy=content_security_policy(config))
    return app


def idp_serve(
    config: IdpConfig,
    host: str = "127.0.0.1",
    port: int = 8001,
    *,
    log_level: str = "info",
    allow_remote: bool = False,
) -> None:
    """Serve the provider until stopped. Loopback only unless `allow_remote`. The access log is
    off: its lines would carry NINs (`login_hint`) and tokens (`id_token_hint`) from URLs."""
    environment_refuse(config.environment, SANDBOX)
    banner = idp_banner(config)
    issuer_port = urlsplit(config.issuer).port
    if issuer_port is not None and issuer_port != port:
        banner += f"\n  warning     the issuer names port {issuer_port}, but this listens on {port}"
    sandbox_serve(
        create_idp_app(config),
        sandbox=SANDBOX,
        banner=banner,
        host=host,
        port=port,
        log_level=log_level,
        allow_remote=allow_remote,
    )
