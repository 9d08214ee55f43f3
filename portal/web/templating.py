"""The one Jinja environment and `render`, the only way a page is produced.

Autoescape is on, undefined variables are errors, and `{% trans %}` reads the reader's language
from the request being rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from portal.web import i18n
from portal.web.assets import Assets
from portal.web.csrf import csrf_cookie_set, csrf_token


def json_script(value: Any) -> Markup:
    """JSON safe to place inside a <script> element: no '<', '>' or '&' can close it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 (every markup-significant character is escaped above)


def field_ids(base: str, params: Mapping[str, Any], *, limit: int | None = None) -> dict[str, str]:
    """The ids a form field's parts get from its id (or a group's prefix), and the
    `aria-describedby` that reads its hint, length limit and error with it."""
    ids = {"id": base, "hint": f"{base}-hint", "limit": f"{base}-limit", "error": f"{base}-error"}
    described = [params["describedBy"]] if params.get("describedBy") else []
    described += [ids["hint"]] if params.get("hint") else []
    described += [ids["limit"]] if limit else []
    described += [ids["error"]] if params.get("errorMessage") else []
    return {**ids, "described": " ".join(described)}


def environment_create(*, templates_dir: Any, assets: Assets) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    environment.filters.update(
        l10n=i18n.localized,
        date_text=i18n.date_text,
        duration_text=i18n.duration_text,
        tzs=i18n.amount_text,
        json_script=json_script,
    )
    environment.globals.update(
        asset_url=assets.url, known_locales=i18n.KNOWN_LOCALES, field_ids=field_ids
    )
    return environment


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render a page in the reader's language, with the layout's shared variables."""
    locale = i18n.locale_for(request)
    other = "en" if locale == "sw" else "sw"
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    switch_query = urlencode([*kept, ("lang", other)])
    page_context = {
        "request": request,
        "locale": locale,
        "other_locale": other,
        "language_switch_url": f"{request.url.path}?{switch_query}",
        "csp_nonce": request.state.csp_nonce,
        "csrf_token": csrf_token(request),
        # Set by sign-in for a visitor whose session is live; None for everyone else.
        "signed_in_name": getattr(request.state, "signed_in_name", None),
        "signed_in_tools": getattr(request.state, "signed_in_tools", ()),  # publish, curate
        **(context or {}),
    }
    token = i18n.use_locale(locale)
    try:
        html = request.app.state.templates.get_template(template).render(page_context)
    finally:
        i18n.reset_locale(token)
    response = HTMLResponse(
        html, status_code=status, headers={"Content-Language": locale, "Vary": "Cookie"}
    )
    if getattr(request.state, "visitor", None) is not None:  # a shared phone keeps no copy
        response.headers["Cache-Control"] = "no-store"
    csrf_cookie_set(request, response)
    if request.query_params.get("lang") == locale:  # an explicit choice is remembered
        response.set_cookie(
            i18n.LOCALE_COOKIE,
            locale,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
