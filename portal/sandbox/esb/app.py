"""The sandbox bus as an ASGI app, and a helper to serve it with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from portal.bus.govesb.keys import curve_name
from portal.sandbox.esb.config import SANDBOX, EsbConfig
from portal.sandbox.esb.engine import Engine
from portal.sandbox.esb.routes import router
from portal.sandbox.serving import environment_refuse, sandbox_serve

logger = logging.getLogger("portal.sandbox.esb")


def esb_banner(config: EsbConfig, base_url: str) -> str:
    """What the bus says when it starts: what it is, where, and what it forgets."""
    clients = ", ".join(c.client_id for c in config.clients) or "none"
    api_codes = ", ".join(f"{a.code} -> {a.provider}" for a in config.api_codes) or "none"
    push_codes = (
        ", ".join(
            f"{p.code} ({p.publisher}) -> {'/'.join(s for s, _url in p.subscribers)}"
            for p in config.push_codes
        )
        or "none"
    )
    lines = [
        "GovESB sandbox: DEVELOPMENT ONLY, this is not e-GA's GovESB.",
        f"  token       {base_url}/gw/govesb-uaa/oauth/token",
        f"  engine      {base_url}/engine/esb (/request /nida-request /push-request /async)",
        f"  bus key     {base_url}/sandbox/public-key ({curve_name(config.private_key)})",
        f"  faults      {base_url}/sandbox/faults (POST to set, DELETE to clear)",
        f"  clients     {clients}",
        f"  api codes   {api_codes}",
        f"  push codes  {push_codes}",
        "  state       tokens, requests and late results live in this process's memory",
        "              only: they are lost when it stops.",
    ]
    if config.lenient_bare_token:
        lines.append("  lenient     a bare token without 'Bearer ' is accepted")
    if config.strict_jackson:
        lines.append("  strict      signatures verify over Jackson's compact form only")
    return "\n".join(lines)


def create_esb_app(config: EsbConfig) -> FastAPI:
    """The sandbox GovESB; refuses to exist outside development and test."""
    environment_refuse(config.environment, SANDBOX)
    engine = Engine(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("sandbox GovESB up (state in memory only)")
        try:
            yield
        finally:
            await engine.close()

    app = FastAPI(
        title="GovESB sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.esb = engine
    app.state.faults = engine.faults
    app.state.deliveries = engine.deliveries
    app.include_router(router)
    return app


def esb_serve(
    config: EsbConfig, host: str = "127.0.0.1", port: int = 8002, *, log_level: str = "info"
) -> None:
    """Serve the bus until stopped, on loopback only. The access log is off: the bus needs none,
    and nothing it logs may carry a body, a token or a secret."""
    environment_refuse(config.environment, SANDBOX)
    shown = f"[{host}]" if ":" in host else host
    sandbox_serve(
        create_esb_app(config),
        sandbox=SANDBOX,
        banner=esb_banner(config, f"http://{shown}:{port}"),
        host=host,
        port=port,
        log_level=log_level,
    )
