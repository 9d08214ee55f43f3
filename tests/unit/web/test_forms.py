"""Form validation: errors in field order with each field's own messages, in the reader's
language; blank is missing; values kept as typed; input beyond the limits refused politely."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

import pytest
from babel.support import NullTranslations
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, field_validator
from starlette.datastructures import FormData

from portal.web import forms, i18n
from portal.web.forms import (
    FORM_INVALID_STATUS,
    N_,
    EmailAddress,
    FormInput,
    FormRefused,
    InvalidInput,
    Messages,
    form_blank,
    form_dependency,
    form_read,
    form_validate,
    redirect_after_post,
)


class Comment(BaseModel):
    comment: Annotated[
        str,
        Field(max_length=1000),
        Messages(
            missing=N_("Enter your comment"),
            too_long=N_("Your comment must be 1,000 characters or fewer"),
        ),
    ]
    useful: Annotated[Literal["yes", "no"], Messages(missing=N_("Select yes or no"))]
    topics: list[Literal["kodi", "ardhi", "afya"]] = []
    email: EmailAddress | None = None
    age: Annotated[int | None, Field(ge=18, le=10_000)] = None
    name: Annotated[str, Field(max_length=5)] = ""

    @field_validator("name")
    @classmethod
    def _no_digits(cls, value: str) -> str:
        if value == "admin":
            raise ValueError("Value error, raw text a reader must never see")
        if any(c.isdigit() for c in value):
            raise InvalidInput(N_("Names cannot contain numbers"))
        return value


class Choices(BaseModel):
    topics: Annotated[list[Literal["kodi", "ardhi"]], Field(max_length=1)]


class Blame(BaseModel):
    comment: Annotated[str, Messages(missing=N_("Enter a comment before a name"))]
    useful: Annotated[Literal["yes", "no"], Messages(missing=N_("Select yes or no"))]
    name: str = ""

    @field_validator("name")
    @classmethod
    def _blames_the_comment(cls, value: str) -> str:
        raise InvalidInput(N_("Enter your comment"), field="comment")


SWAHILI_FOR_TEST = {
    "Enter your comment": "Andika maoni yako",
    "Select yes or no": "Chagua ndiyo au hapana",
    "Your comment must be 1,000 characters or fewer": "Maoni yako yasizidi herufi 1,000",
}


class _WithTestMessages(NullTranslations):
    """The real Swahili catalogue, plus this test's own field messages."""

    def __init__(self, real: NullTranslations) -> None:
        super().__init__()
        self.real = real

    def gettext(self, message: str) -> str:
        return SWAHILI_FOR_TEST.get(message) or self.real.gettext(message)


@pytest.fixture
def swahili_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    real = i18n.translations_for("sw")
    patched = _WithTestMessages(real)
    monkeypatch.setattr(
        i18n, "translations_for", lambda locale: patched if locale == "sw" else NullTranslations()
    )


@pytest.fixture
def english() -> Iterator[None]:
    token = i18n.use_locale("en")
    yield
    i18n.reset_locale(token)


def in_locale(locale: str, form_input: FormInput[Comment]) -> list[tuple[str, str]]:
    token = i18n.use_locale(locale)
    try:
        return [(error.field, error.message) for error in form_input.errors]
    finally:
        i18n.reset_locale(token)


# Order, declared messages and languages


def test_errors_come_in_field_order_with_the_declared_messages(swahili_messages: None) -> None:
    # Sent in the reverse order of the fields: the errors still follow the model.
    result = form_validate(Comment, [("age", "x"), ("topics", "bahari"), ("comment", "")])
    assert result.data is None
    assert not result.ok
    assert in_locale("en", result) == [
        ("comment", "Enter your comment"),
        ("useful", "Select yes or no"),
        ("topics", "Select one of the options"),
        ("age", "Enter a whole number"),
    ]
    assert in_locale("sw", result) == [
        ("comment", "Andika maoni yako"),
        ("useful", "Chagua ndiyo au hapana"),
        ("topics", "Chagua mojawapo ya machaguo yaliyotolewa"),
        ("age", "Andika namba kamili"),
    ]


def test_a_message_is_translated_when_shown_not_when_checked(swahili_messages: None) -> None:
    token = i18n.use_locale("en")
    try:
        result = form_validate(Comment, [("comment", "x" * 1001), ("useful", "yes")])
    finally:
        i18n.reset_locale(token)
    assert in_locale("sw", result) == [("comment", "Maoni yako yasizidi herufi 1,000")]
    assert in_locale("en", result) == [
        ("comment", "Your comment must be 1,000 characters or fewer")
    ]


@pytest.mark.parametrize(
    ("answers", "english_text", "swahili_text"),
    [
        ({"name": "abcdef"}, "Enter 5 characters or fewer", "Andika herufi zisizozidi 5"),
        ({"age": "17"}, "Enter a number that is 18 or more", "Andika namba isiyopungua 18"),
        (
            {"age": "10001"},
            "Enter a number that is 10,000 or less",
            "Andika namba isiyozidi 10,000",
        ),
        ({"age": "18.5"}, "Enter a whole number", "Andika namba kamili"),
        (
            {"email": "name at example"},
            "Enter an email address in the right form, like name@example.com",
            "Andika anwani ya barua pepe kwa muundo sahihi, kama jina@mfano.co.tz",
        ),
        ({"name": "ab1"}, "Names cannot contain numbers", "Names cannot contain numbers"),
        ({"name": "admin"}, "Check what you entered", "Kagua ulichoandika"),
    ],
)
def test_fields_without_their_own_message_get_a_plain_default(
    answers: dict[str, str], english_text: str, swahili_text: str
) -> None:
    result = form_validate(Comment, [("comment", "ok"), ("useful", "no"), *answers.items()])
    field = next(iter(answers))
    assert in_locale("en", result) == [(field, english_text)]
    assert in_locale("sw", result) == [(field, swahili_text)]


def test_no_pydantic_text_ever_reaches_a_reader(english: None) -> None:
    result = form_validate(
        Comment,
        [("useful", "maybe"), ("topics", "x"), ("email", "@"), ("age", "1e999"), ("name", "admin")],
    )
    messages = [error.message for error in result.errors]
    assert len(messages) == 6
    for message in messages:
        assert "Input should" not in message
        assert "Value error" not in message
        assert "raw text" not in message


def test_one_message_per_field_even_with_several_problems(english: None) -> None:
    result = form_validate(Comment, [("comment", "c"), ("useful", "y"), *[("topics", "x")] * 3])
    assert [(e.field, e.message) for e in result.errors] == [
        ("useful", "Select one of the options"),
        ("topics", "Select one of the options"),
    ]


def test_a_validator_may_name_another_field_and_order_still_holds(english: None) -> None:
    # The name's validator blames the comment, after pydantic has reported `useful`.
    result = form_validate(Blame, [("comment", "c"), ("name", "x")])
    assert [(e.field, e.message) for e in result.errors] == [
        ("comment", "Enter your comment"),
        ("useful", "Select yes or no"),
    ]
    # When the comment has its own problem too, that first one is the one shown.
    result = form_validate(Blame, [("comment", ""), ("name", "x")])
    assert [(e.field, e.message) for e in result.errors] == [
        ("comment", "Enter a comment before a name"),
        ("useful", "Select yes or no"),
    ]


def test_list_limits_speak_of_options(english: None) -> None:
    too_many = form_validate(Choices, [("topics", "kodi"), ("topics", "ardhi")])
    assert [e.message for e in too_many.errors] == ["Select no more than 1 options"]
    none_chosen = form_validate(Choices, [])
    assert [e.message for e in none_chosen.errors] == ["Select at least one option"]


# Blank, trimming, values kept, repeated keys


def test_blank_means_missing(english: None) -> None:
    result = form_validate(Comment, [("comment", "  \n\t "), ("useful", " "), ("email", "   ")])
    assert [(e.field, e.message) for e in result.errors] == [
        ("comment", "Enter your comment"),
        ("useful", "Select yes or no"),
    ]


def test_blank_optional_fields_take_their_defaults_and_text_is_trimmed() -> None:
    result = form_validate(
        Comment, [("comment", "  Asante sana  "), ("useful", " yes "), ("email", " "), ("age", "")]
    )
    assert result.ok
    assert result.data is not None
    assert result.data.comment == "Asante sana"
    assert result.data.useful == "yes"
    assert result.data.email is None
    assert result.data.age is None
    assert result.values["comment"] == "  Asante sana  "  # kept as typed


def test_values_are_kept_as_typed_when_invalid() -> None:
    hostile = '<script>alert("x")</script>'
    result = form_validate(
        Comment,
        [("comment", hostile), ("email", " bad "), ("topics", "kodi"), ("csrf_token", "t")],
    )
    assert not result.ok
    assert result.value("comment") == hostile  # escaping is the template's job
    assert result.value("email") == " bad "
    assert result.value("topics") == ["kodi"]
    assert result.value("useful") == ""
    assert result.value("useful", "none") == "none"
    assert "csrf_token" not in result.values


def test_repeated_keys_fill_a_list_in_the_order_sent() -> None:
    form = FormData([("comment", "c"), ("useful", "no"), ("topics", "afya"), ("topics", "kodi")])
    result = form_validate(Comment, form)
    assert result.data is not None
    assert result.data.topics == ["afya", "kodi"]
    assert result.values["topics"] == ["afya", "kodi"]


def test_a_repeated_key_for_a_single_field_takes_the_first() -> None:
    result = form_validate(Comment, [("comment", "first"), ("comment", "second"), ("useful", "no")])
    assert result.data is not None
    assert result.data.comment == "first"


# Helpers for templates and routes


def test_helpers_give_component_parameters(english: None) -> None:
    result = form_validate(Comment, [("comment", ""), ("useful", "yes")])
    assert result.error_message("comment") == {"text": "Enter your comment"}
    assert result.error_message("useful") is None
    assert result.error_list == [{"text": "Enter your comment", "href": "#comment"}]
    assert str(result.errors[0]) == "Enter your comment"


def test_a_service_can_add_an_error_in_field_order(english: None) -> None:
    result = form_validate(Comment, [("comment", "c"), ("useful", "yes"), ("name", "ab")])
    assert result.ok
    checked = result.with_error("name", N_("Check what you entered")).with_error(
        "comment", N_("Enter your comment")
    )
    assert not checked.ok
    assert checked.data is None
    assert [e.field for e in checked.errors] == ["comment", "name"]
    assert checked.values == result.values


def test_a_blank_form_has_no_errors_and_may_be_filled_in() -> None:
    blank = form_blank({"comment": "draft"})
    assert blank.errors == []
    assert not blank.ok
    assert blank.value("comment") == "draft"
    assert blank.error_list == []


def test_redirect_after_post_is_a_303() -> None:
    response = redirect_after_post("/maoni/asante")
    assert response.status_code == 303
    assert response.headers["location"] == "/maoni/asante"


# Reading a request: the dependency, limits and refusals


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/maoni")
    def comment_send(
        form_input: Annotated[FormInput[Comment], Depends(form_dependency(Comment))],
    ) -> Response:
        if not form_input.ok:
            token = i18n.use_locale("en")
            try:
                body = "\n".join(f"{e.field}: {e.message}" for e in form_input.errors)
            finally:
                i18n.reset_locale(token)
            return PlainTextResponse(body, status_code=FORM_INVALID_STATUS)
        assert form_input.data is not None
        return redirect_after_post(f"/asante?topics={','.join(form_input.data.topics)}")

    @app.post("/twice")
    async def read_twice(request: Request) -> Response:
        outcomes = []
        for _ in range(2):
            try:
                await form_read(request)
                outcomes.append("read")
            except FormRefused as refused:
                outcomes.append(f"{refused.status_code}")
        return PlainTextResponse(" ".join(outcomes))

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(_app()) as test_client:
        yield test_client


def test_a_valid_urlencoded_form_redirects(client: TestClient) -> None:
    response = client.post(
        "/maoni",
        content="comment=Asante&useful=yes&topics=kodi&topics=afya&csrf_token=t",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/asante?topics=kodi,afya"


def test_a_valid_multipart_form_redirects(client: TestClient) -> None:
    pairs = [("comment", "Asante"), ("useful", "no"), ("topics", "ardhi"), ("topics", "kodi")]
    body = "".join(
        f'--b0undary\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in pairs
    )
    response = client.post(
        "/maoni",
        content=body + "--b0undary--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/asante?topics=ardhi,kodi"


def test_an_invalid_form_answers_the_page_not_json(client: TestClient) -> None:
    response = client.post(
        "/maoni",
        content="comment=+&useful=perhaps",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == FORM_INVALID_STATUS == 422
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "comment: Enter your comment\nuseful: Select one of the options"


def test_a_body_that_is_not_a_form_counts_as_an_empty_form(client: TestClient) -> None:
    response = client.post("/maoni", json={"comment": "x", "useful": "yes"})
    assert response.status_code == 422
    assert response.text.startswith("comment: Enter your comment")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("&".join(f"f{i}=x" for i in range(forms.FORM_LIMITS.max_fields + 1)), "urlencoded"),
        ("comment=" + "x" * (forms.FORM_LIMITS.max_part_size + 1), "urlencoded"),
        # Every field within its own limit, but the whole beyond the body's.
        ("&".join(f"f{i}=" + "x" * 60_000 for i in range(5)), "urlencoded"),
        ("file", "multipart"),
    ],
    ids=["too-many-fields", "too-large-field", "too-large-body", "a-file"],
)
def test_oversized_input_is_refused_with_a_message(
    client: TestClient, content: str, content_type: str
) -> None:
    if content_type == "multipart":
        response = client.post(
            "/maoni", data={"comment": "c"}, files={"upload": ("a.txt", b"x", "text/plain")}
        )
    else:
        response = client.post(
            "/maoni",
            content=content,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 422
    assert response.text == (
        ": The form was too large to send. Make your answers shorter and try again."
    )


def test_a_malformed_multipart_body_is_refused_as_unreadable(client: TestClient) -> None:
    response = client.post(
        "/maoni", content=b"nonsense", headers={"Content-Type": "multipart/form-data"}
    )
    assert response.status_code == 422
    assert response.text == ": The form could not be read. Try sending it again."


def test_a_refused_form_is_refused_again_rather_than_read_twice(client: TestClient) -> None:
    big = "comment=" + "x" * (forms.FORM_LIMITS.max_part_size + 1)
    response = client.post(
        "/twice", content=big, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.text == "413 413"
    fine = client.post(
        "/twice", content="a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert fine.text == "read read"
