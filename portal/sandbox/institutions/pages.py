"""The institution's own pages: a Jinja environment of its own, its stylesheet, its policy.

Each demo institution wears its own name and colours; none of them shares the portal's page
machinery, as they stand in for other authorities' systems. No page runs a script.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse

from portal.sandbox.idp.text import LANGUAGE_NAMES
from portal.sandbox.institutions.config import PACKAGE_DIR, InstitutionConfig
from portal.sandbox.institutions.text import text
from portal.sandbox.serving import templates_environment

TEMPLATES_DIR = PACKAGE_DIR / "templates"
STYLESHEET = PACKAGE_DIR / "static" / "institution.css"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
NIN_SHOWN_DIGITS = 4


def nin_masked(nin: str) -> str:
    """The NIN with every digit but the last four hidden."""
    return "•" * (len(nin) - NIN_SHOWN_DIGITS) + nin[-NIN_SHOWN_DIGITS:]


class Pages:
    def __init__(self, config: InstitutionConfig) -> None:
        self.config = config
        self.environment = templates_environment(TEMPLATES_DIR)

    def render(
        self,
        template: str,
        *,
        language: str,
        title: str,
        status: int = 200,
        errors: dict[str, str] | None = None,
        switch_url: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page in `language` whose h1 and <title> are `title`; `switch_url` is the same page
        in the other language, when it has one."""
        other = "en" if language == "sw" else "sw"

        def t(key: str, **values: object) -> str:
            return text(language, key, **values)

        body = self.environment.get_template(template).render(
            lang=language,
            other_lang=other,
            other_lang_name=LANGUAGE_NAMES[other],
            switch_url=switch_url,
            t=t,
            title=title,
            errors=errors or {},
            institution=self.config,
            institution_name=self.config.name.pick(language),
            nin_masked=nin_masked,
            **context,
        )
        return HTMLResponse(body, status_code=status)

    def message(self, key: str, *, status: int) -> HTMLResponse:
        """A page that says `<key>_title` and `<key>_text` in Swahili, then in English: it is
        shown where the reader's language is not known."""
        return self.render(
            "message.html",
            language="sw",
            title=text("sw", f"{key}_title"),
            status=status,
            paragraph=text("sw", f"{key}_text"),
            english_banner=text("en", "banner"),
            english_title=text("en", f"{key}_title"),
            english_paragraph=text("en", f"{key}_text"),
        )
