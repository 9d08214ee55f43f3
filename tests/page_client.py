"""A test client that holds every HTML page to the page contract.

The contract: the document parses as HTML5 without errors; `<html lang>` is a known locale; one
`h1`; a `<title>` that starts with the `h1` text; no duplicate ids; every form field labelled;
every form has an action; every script carries the response's CSP nonce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
from fastapi.testclient import TestClient
from httpx2 import Response

from portal.web.i18n import KNOWN_LOCALES

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


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
    assert _text(titles[0]).startswith(_text(h1s[0])), "title must start with the h1"
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
    match = re.search(r"'nonce-([^']+)'", response.headers.get("content-security-policy", ""))
    for script in tree.iter("script"):
        assert match, "a page with a script needs a CSP nonce"
        assert script.get("nonce") == match.group(1), "script without the CSP nonce"
    return tree


class PageClient:
    """Wraps TestClient: `get` asserts the status and, for HTML, the page contract."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, *, status: int = 200, **kwargs: Any) -> Page:
        response = self.client.get(url, **kwargs)
        assert response.status_code == status, (url, response.status_code, response.text[:500])
        assert response.headers["content-type"].startswith("text/html"), response.headers
        return Page(response=response, tree=check_page_contract(response))
