"""CSRF protection on every unsafe request (POST, PUT, PATCH, DELETE).

A visitor gets a random id in the `csrf` cookie (HttpOnly, SameSite=Lax) on the first page that
is rendered for them. Every page's forms carry `csrf_token`, an HMAC of that id under the
portal's secret key: a token is bound to one visitor and cannot be forged without the key, and
a token planted from elsewhere does not match the visitor's own cookie. A browser's `Origin`,
when sent, must be ours as well.

`csrf_protect` runs as an app-wide dependency, so a new route is protected without asking for
it. Machine endpoints that authenticate by signature (GovESB deliveries, back-channel logout)
are the only exemptions, and they are listed by path in `CSRF_EXEMPT`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.responses import Response

from portal.web.forms import form_read

COOKIE = "csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Route paths whose callers prove themselves by signature and never hold a browser cookie.
CSRF_EXEMPT: frozenset[str] = frozenset(
    {
        "/ingia/backchannel",  # back-channel logout: the provider posts a signed logout token
        "/govesb/taarifa",  # GovESB delivers institutions' status pushes, signed by the bus
    }
)


class CsrfRejected(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(status_code=403, detail=f"csrf: {reason}")


def _token(secret: str, visitor: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{visitor}".encode(), hashlib.sha256).hexdigest()


def visitor_id(request: Request) -> str:
    """The visitor's id from the cookie, or a new one that `csrf_cookie_set` will send."""
    visitor = getattr(request.state, "csrf_visitor", None)
    if visitor is None:
        cookie = request.cookies.get(COOKIE, "")
        if 32 <= len(cookie) <= 128 and cookie.isascii():
            visitor = cookie
        else:
            visitor = secrets.token_urlsafe(32)
            request.state.csrf_new_visitor = True
        request.state.csrf_visitor = visitor
    return visitor


def csrf_token(request: Request) -> str:
    """The token this visitor's forms must carry."""
    return _token(request.app.state.settings.secret_key.get_secret_value(), visitor_id(request))


def visitor_renew(request: Request) -> None:
    """Give the visitor a new id (at sign-in, so a planted id cannot follow them in)."""
    request.state.csrf_visitor = secrets.token_urlsafe(32)
    request.state.csrf_new_visitor = True


def csrf_cookie_set(request: Request, response: Response) -> None:
    """Send the visitor id with the first page that gave this visitor a token."""
    if getattr(request.state, "csrf_new_visitor", False):
        response.set_cookie(
            COOKIE,
            request.state.csrf_visitor,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )


def _origin_allowed(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # older browsers and same-origin form posts may send none
        return True
    allowed = {request.app.state.settings.base_url, str(request.base_url)}
    return any(_same_origin(origin, url) for url in allowed)


def _same_origin(origin: str, url: str) -> bool:
    a, b = urlsplit(origin), urlsplit(url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe request without a valid token for this visitor (403)."""
    if request.method not in UNSAFE_METHODS:
        return
    route = request.scope.get("route")
    if getattr(route, "path", None) in CSRF_EXEMPT:
        return
    if not _origin_allowed(request):
        raise CsrfRejected("origin")
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise CsrfRejected("no cookie")
    sent = request.headers.get(HEADER)
    if sent is None:
        form = await form_read(request)
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not sent:
        raise CsrfRejected("no token")
    secret = request.app.state.settings.secret_key.get_secret_value()
    if not hmac.compare_digest(sent, _token(secret, cookie)):
        raise CsrfRejected("token does not match")
