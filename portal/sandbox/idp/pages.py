"""The provider's own pages: a Jinja environment of its own, its stylesheet and its headers.

The sandbox shares nothing with the portal's page machinery: it stands in for another
authority. No page runs a script, so the policy allows none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.sandbox.idp.config import PACKAGE_DIR, IdpConfig
from portal.sandbox.idp.text import LANGUAGE_NAMES, text
from portal.sandbox.serving import templates_environment

TEMPLATES_DIR = PACKAGE_DIR / "templates"
STYLESHEET = PACKAGE_DIR / "static" / "idp.css"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config: IdpConfig) -> str:
    """No scripts at all. Forms post here, but a sign-in form's answer is a redirect to the
    client, and browsers hold that redirect to `form-action` too: the clients' origins are
    listed."""
    origins = sorted(
        {
            _origin(uri)
            for client in config.clients
            for uri in (*client.redirect_uris, *client.post_logout_redirect_uris)
        }
    )
    return "; ".join(
        (
            "default-src 'none'",
            "style-src 'self'",
            "img-src 'self'",
            "form-action " + " ".join(["'self'", *origins]),
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


class SecurityHeadersMiddleware:
    """The same protective headers on every response; nothing is cached unless a route says."""

    def __init__(self, app: ASGIApp, *, policy: str) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            # Codes travel in the redirect to the client; no Referer may carry a URL further.
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(self.headers)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Pages:
    def __init__(self) -> None:
        self.environment = templates_environment(TEMPLATES_DIR)

    def render(
        self,
        request: Request,
        template: str,
        *,
        language: str,
        title_key: str,
        status: int = 200,
        errors: dict[str, str] | None = None,
        banner_code: str | None = None,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page in `language`; its h1 and title are the text `title_key`."""
        other = "en" if language == "sw" else "sw"

        def t(key: str, **values: object) -> str:
            return text(language, key, **values)

        body = self.environment.get_template(template).render(
            lang=language,
            other_lang=other,
            other_lang_name=LANGUAGE_NAMES[other],
            switch_url=_switch_url(request, other),
            t=t,
            title=t(title_key),
            errors=errors or {},
            banner_code=banner_code,
            **context,
        )
        return HTMLResponse(body, status_code=status, headers=headers)


def _switch_url(request: Request, language: str) -> str:
    """The page as a GET in the other language (a POST's page falls back to its GET)."""
    items: Iterable[tuple[str, str]] = (
        request.query_params.multi_items() if request.method == "GET" else ()
    )
    query = [(k, v) for k, v in items if k != "lang"] + [("lang", language)]
    return f"{request.url.path}?{urlencode(query)}"
