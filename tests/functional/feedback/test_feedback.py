"""Feedback, problem reports and the contact form, used as a reader would, without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select

from portal.feedback.models import Feedback
from portal.feedback.services import REMOVED
from tests.page_client import Page, PageClient

SERVICE_PAGE = "/huduma/rita-cheti-cha-kuzaliwa"
Kept = Callable[[], list[Feedback]]
PERSONAL = "NIN yangu 19900101-12345-00001-23, simu 0712 345 678, barua juma@example.co.tz"


@pytest.fixture
def kept(db: Connection) -> Callable[[], list[Feedback]]:
    """What this test has stored: rows newer than any there when it began (the browser tests
    commit theirs for real, and this test's own vanish with its transaction)."""
    with Session(db) as session:
        before = session.exec(select(func.max(Feedback.id))).one() or 0

    def rows() -> list[Feedback]:
        with Session(db) as session:
            newer = select(Feedback).where(col(Feedback.id) > before)
            return list(session.exec(newer.order_by(col(Feedback.id))).all())

    return rows


def _widget(page: Page) -> Page:
    assert page.find(".//section[@class='page-feedback wrap']") is not None
    return page


@pytest.mark.parametrize("lang", ["sw", "en"])
@pytest.mark.parametrize("path", ["/", SERVICE_PAGE, "/tafuta?q=pasipoti", "/taasisi/rita"])
def test_every_content_page_asks_whether_it_was_useful(
    pages: PageClient, path: str, lang: str
) -> None:
    separator = "&" if "?" in path else "?"
    page = _widget(pages.get(f"{path}{separator}lang={lang}"))
    question = "Was this page useful?" if lang == "en" else "Je, ukurasa huu umekusaidia?"
    assert question in page.text()
    form = pages.form(page, "/maoni")
    assert form.find(".//input[@name='page']").get("value") == path.split("?")[0]  # type: ignore[union-attr]
    report = [a for a in page.tree.iter("a") if (a.get("href") or "").startswith("/tatizo?")]
    assert len(report) == 1


@pytest.mark.parametrize("path", ["/haipo-kabisa", "/wasiliana", "/tatizo"])
def test_error_and_feedback_pages_do_not_ask_again(pages: PageClient, path: str) -> None:
    status = 404 if path == "/haipo-kabisa" else 200
    page = pages.get(path, status=status)
    assert page.find(".//section[@class='page-feedback wrap']") is None


def test_a_yes_is_kept_with_the_path_only_then_a_scrubbed_comment(
    pages: PageClient, kept: Kept
) -> None:
    page = pages.get("/tafuta?q=19900101-12345-00001-23&lang=en")
    response = pages.post(page, {"useful": "yes"}, action="/maoni")
    assert isinstance(response, object)
    location = response.headers["location"]  # type: ignore[union-attr]
    assert location.startswith("/maoni/")
    [answer] = kept()
    assert (answer.kind, answer.page, answer.useful, answer.language) == (
        "useful",
        "/tafuta",
        True,
        "en",
    )
    assert answer.comment is None

    thanks = pages.get(location)
    assert thanks.h1 == "Thank you for your answer"
    done = pages.post(thanks, {"comment": f"Nilipata. {PERSONAL}"})
    assert done.headers["location"] == "/maoni/asante?ukurasa=%2Ftafuta"  # type: ignore[union-attr]
    [answer] = kept()
    assert answer.comment == f"Nilipata. NIN yangu {REMOVED}, simu {REMOVED}, barua {REMOVED}"
    assert "19900101" not in (answer.comment or "")

    # A resent comment form changes nothing, and the form is no longer offered.
    assert pages.client.get(location).text.count('name="comment"') == 0
    final = pages.get("/maoni/asante?ukurasa=%2Ftafuta")
    assert final.find(".//a[@href='/tafuta']") is not None


def test_no_choice_shows_the_question_again_with_an_error_in_swahili(
    pages: PageClient, kept: Kept
) -> None:
    page = pages.get(SERVICE_PAGE)
    shown = pages.post(page, {}, action="/maoni", status=422)
    assert isinstance(shown, Page)
    title = shown.tree.find("./head/title")
    assert title is not None
    assert (title.text or "").startswith("Hitilafu:")
    summary = shown.find(".//div[@class='error-summary']")
    assert summary is not None
    link = summary.find(".//a")
    assert link is not None
    assert link.get("href") == "#useful"
    assert shown.find(".//*[@id='useful']") is not None
    assert kept() == []
    # Answered on that page, it goes through.
    pages.post(shown, {"useful": "no"})
    assert [(f.page, f.useful) for f in kept()] == [(SERVICE_PAGE, False)]


@pytest.mark.parametrize(
    "hostile",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_a_page_that_is_not_ours_is_refused_and_never_linked(
    pages: PageClient, kept: Kept, hostile: str
) -> None:
    page = pages.get("/")
    shown = pages.post(page, {"page": hostile, "useful": "yes"}, action="/maoni", status=422)
    assert isinstance(shown, Page)
    assert kept() == []
    hrefs = {a.get("href") for a in shown.tree.iter("a")}
    assert hostile not in hrefs or hostile == ""
    problem = pages.get("/tatizo", params={"ukurasa": hostile})
    assert problem.find(".//input[@name='page']").get("value") == "/"  # type: ignore[union-attr]
    thanks = pages.get("/maoni/asante", params={"ukurasa": hostile})
    assert hostile not in {a.get("href") for a in thanks.tree.iter("a")} or hostile == ""


def test_a_problem_report_keeps_the_reason_and_the_scrubbed_details(
    pages: PageClient, kept: Kept
) -> None:
    service = pages.get(f"{SERVICE_PAGE}?lang=en")
    link = next(a for a in service.tree.iter("a") if (a.get("href") or "").startswith("/tatizo?"))
    form_page = pages.get(str(link.get("href")))
    assert form_page.h1 == "Report a problem with a page"

    # Details without a reason: asked again, the details kept as typed.
    typed = "The fee shown is <b>old</b>"
    shown = pages.post(form_page, {"comment": typed}, status=422)
    assert isinstance(shown, Page)
    textarea = shown.find(".//textarea[@name='comment']")
    assert textarea is not None
    assert textarea.text == typed
    assert "Select what went wrong" in shown.text()
    assert kept() == []

    pages.post(shown, {"reason": "wrong", "comment": f"{typed}. {PERSONAL}"})
    [report] = kept()
    assert (report.kind, report.page, report.reason) == ("problem", SERVICE_PAGE, "wrong")
    assert report.comment is not None
    assert REMOVED in report.comment
    assert "0712" not in report.comment


def test_the_contact_form_checks_its_message(pages: PageClient, kept: Kept) -> None:
    page = pages.get("/wasiliana?lang=en")
    assert page.h1 == "Contact the Mlango team"
    assert page.find(".//a[@href='tel:*152*00%23']") is not None
    shown = pages.post(page, {"topic": "missing", "message": "x" * 1201}, status=422)
    assert isinstance(shown, Page)
    assert "Your message must be 1,200 characters or fewer" in shown.text()
    radio = shown.find(".//input[@value='missing']")
    assert radio is not None
    assert radio.get("checked") is not None  # the choice is kept
    assert kept() == []
    pages.post(shown, {"message": "Huduma ya kusajili chama cha ushirika haipo."})
    [message] = kept()
    assert (message.kind, message.reason, message.page) == ("contact", "missing", "/wasiliana")


def test_the_accessibility_statement_and_footer_lead_to_the_contact_page(
    pages: PageClient,
) -> None:
    page = pages.get("/ufikivu")
    assert len(page.tree.findall(".//main//a[@href='/wasiliana']")) == 1
    assert len(page.tree.findall(".//footer//a[@href='/wasiliana']")) == 1


def test_a_form_without_its_token_is_refused_and_nothing_is_kept(
    client: TestClient, kept: Kept
) -> None:
    client.get("/")  # the visitor has a cookie, but the post carries no token
    response = client.post("/maoni", data={"page": "/", "useful": "yes"}, follow_redirects=False)
    assert response.status_code == 403
    assert "This form has expired" in response.text or "Fomu hii imepitwa na muda" in response.text
    assert kept() == []


def test_a_token_only_works_for_the_visitor_it_was_given_to(pages: PageClient, kept: Kept) -> None:
    page = pages.get("/")
    token = pages.form(page, "/maoni").find(".//input[@name='csrf_token']").get("value")  # type: ignore[union-attr]
    pages.client.cookies.clear()
    pages.client.cookies.set("csrf", "another-visitor-" + "x" * 40)
    response = pages.client.post(
        "/maoni", data={"csrf_token": token, "page": "/", "useful": "no"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert kept() == []


def test_a_post_from_another_site_is_refused(pages: PageClient, kept: Kept) -> None:
    page = pages.get("/")
    token = pages.form(page, "/maoni").find(".//input[@name='csrf_token']").get("value")  # type: ignore[union-attr]
    response = pages.client.post(
        "/maoni",
        data={"csrf_token": token, "page": "/", "useful": "no"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert kept() == []
    same_site = pages.client.post(
        "/maoni",
        data={"csrf_token": token, "page": "/", "useful": "no"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303


def test_too_many_forms_from_one_client_get_a_page_that_says_so(
    pages: PageClient, kept: Kept
) -> None:
    page = pages.get("/?lang=en")
    for _ in range(10):
        pages.post(page, {"useful": "yes"}, action="/maoni")
    refused = pages.post(page, {"useful": "yes"}, action="/maoni", status=429)
    assert isinstance(refused, Page)
    assert refused.h1 == "Too many tries in a short time"
    assert refused.response.headers["retry-after"] == "600"
    assert len(kept()) == 10


def test_a_failed_commit_keeps_nothing_and_says_so(
    raw_client: TestClient, kept: Kept, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = PageClient(raw_client)
    page = pages.get("/?lang=en")

    def refuse(self: Session) -> None:
        raise RuntimeError("the database refused the commit")

    monkeypatch.setattr(Session, "commit", refuse)
    failed = pages.post(page, {"useful": "yes"}, action="/maoni", status=500)
    assert isinstance(failed, Page)
    assert failed.h1 == "Sorry, there is a problem with the service"
    monkeypatch.undo()
    assert kept() == []
