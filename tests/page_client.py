"""A test client that holds every HTML page to the page contract.

The contract: the document parses as HTML5 without errors; `<html lang>` is a known locale; one
`h1`; a `<title>` that starts with the `h1` text (after "Error: " on a form with errors); no
duplicate ids; every form field labelled; every form has an action, and every POST form carries
the CSRF token; every script carries the response's CSP nonce.

`PageClient.post` submits a form of a fetched page as a browser would: the form's own fields
and hidden values, the given answers on top, to the form's action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.etree.ElementTree import Element

import html5lib
from fastapi.testclient import TestClient
from httpx2 import Response

from portal.web.i18n import KNOWN_LOCALES

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
ERROR_PREFIXES = ("Error: ", "Hitilafu: ")


def _text(element: Element) -> str:
    return " ".join("".join(element.itertext()).split())


@dataclass
class Page:
    response: Response
    tree: Element

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def h1(self) -> str:
        return _text(self.tree.findall(".//h1")[0])

    def texts(self, path: str) -> list[str]:
        return [_text(element) for element in self.tree.findall(path)]

    def text(self) -> str:
        return _text(self.tree)

    def find(self, path: str) -> Element | None:
        return self.tree.find(path)


def check_page_contract(response: Response) -> Element:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(response.text)
    assert tree.get("lang") in KNOWN_LOCALES, "html lang must be a known locale"
    h1s = tree.findall(".//h1")
    assert len(h1s) == 1, f"expected exactly one h1, found {len(h1s)}"
    titles = tree.findall("./head/title")
    assert len(titles) == 1, "expected one title"
    title = _text(titles[0])
    for prefix in ERROR_PREFIXES:
        title = title.removeprefix(prefix)
    assert title.startswith(_text(h1s[0])), "title must start with the h1"
    ids = [element.get("id") for element in tree.iter() if element.get("id")]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"
    labelled = {label.get("for") for label in tree.iter("label")}
    for tag in ("input", "select", "textarea"):
        for field in tree.iter(tag):
            if field.get("type") in UNLABELLED_TYPES:
                continue
            assert field.get("id") in labelled or field.get("aria-label"), (
                f"unlabelled {tag}: {field.attrib}"
            )
    for form in tree.iter("form"):
        assert form.get("action"), "every form needs an action"
        if (form.get("method") or "get").lower() == "post":
            token = form.find(".//input[@name='csrf_token']")
            assert token is not None, f"POST form without a CSRF token: {form.get('action')}"
            assert token.get("type") == "hidden"
            assert token.get("value"), "empty CSRF token"
    match = re.search(r"'nonce-([^']+)'", response.headers.get("content-security-policy", ""))
    for script in tree.iter("script"):
        assert match, "a page with a script needs a CSP nonce"
        assert script.get("nonce") == match.group(1), "script without the CSP nonce"
    return tree


def _form_fields(form: Element) -> list[tuple[str, str]]:
    """What a browser would send of a form before the reader answers: hidden and typed values,
    checked choices (no submit button)."""
    fields: list[tuple[str, str]] = []
    for element in form.iter():
        name = element.get("name")
        if not name:
            continue
        if element.tag == "textarea":
            fields.append((name, element.text or ""))
        elif element.tag == "input":
            kind = element.get("type", "text")
            if kind in ("radio", "checkbox"):
                if element.get("checked") is not None:
                    fields.append((name, element.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                fields.append((name, element.get("value", "")))
    return fields


class PageClient:
    """Wraps TestClient: `get` asserts the status and, for HTML, the page contract."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, *, status: int = 200, **kwargs: Any) -> Page:
        response = self.client.get(url, **kwargs)
        assert response.status_code == status, (url, response.status_code, response.text[:500])
        assert response.headers["content-type"].startswith("text/html"), response.headers
        return Page(response=response, tree=check_page_contract(response))

    def form(self, page: Page, action: str | None = None) -> Element:
        """The page's POST form (the one posting to `action`, when there are several)."""
        forms = [
            form
            for form in page.tree.iter("form")
            if (form.get("method") or "").lower() == "post"
            and (action is None or form.get("action") == action)
        ]
        assert len(forms) == 1, f"expected one POST form to {action}, found {len(forms)}"
        return forms[0]

    def post(
        self,
        page: Page,
        answers: Mapping[str, str | list[str]],
        *,
        action: str | None = None,
        status: int = 303,
    ) -> Response | Page:
        """Send a form of `page` with `answers`; the CSRF token must be among its fields.
        A redirect gives the response; a page gives a `Page`, held to the contract."""
        form = self.form(page, action)
        fields = [(k, v) for k, v in _form_fields(form) if k not in answers]
        assert "csrf_token" in dict(fields), "the form does not carry the CSRF token"
        for name, value in answers.items():
            fields += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
        response = self.client.post(
            str(form.get("action")),
            content=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert response.status_code == status, (response.status_code, response.text[:800])
        if 300 <= status < 400:
            return response
        return Page(response=response, tree=check_page_contract(response))
