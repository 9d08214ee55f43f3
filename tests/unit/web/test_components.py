"""Form components: each renders valid HTML5 that keeps the contract of labels, hints and errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Annotated, Any, Literal
from xml.etree.ElementTree import Element

import html5lib
import pytest
from jinja2 import Environment, UndefinedError
from pydantic import BaseModel, Field

from portal.config import STATIC_DIR, TEMPLATES_DIR
from portal.web import i18n
from portal.web.assets import Assets
from portal.web.forms import FormInput, Messages, form_blank, form_validate
from portal.web.templating import environment_create

COMPONENTS = [
    "text_input",
    "textarea",
    "radios",
    "checkboxes",
    "error_summary",
    "button",
    "form",
    "label",
    "hint",
    "error_message",
    "fieldset",
]
IMPORTS = "".join(
    f'{{% from "components/{name}.html" import {name} with context %}}' for name in COMPONENTS
)
HOSTILE = '"><script>alert(1)</script>'


@pytest.fixture(scope="module")
def env() -> Environment:
    return environment_create(templates_dir=TEMPLATES_DIR, assets=Assets(STATIC_DIR))


def render_html(env: Environment, body: str, locale: str = "en", **context: Any) -> str:
    token = i18n.use_locale(locale)
    try:
        return env.from_string(IMPORTS + body).render({"csrf_token": "tok-123", **context})
    finally:
        i18n.reset_locale(token)


def parse(html: str) -> Element:
    """The fragment as a tree; any HTML5 parse error fails the test."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parseFragment(html)


def render(env: Environment, body: str, locale: str = "en", **context: Any) -> Element:
    return parse(render_html(env, body, locale, **context))


def one(tree: Element, path: str) -> Element:
    found = tree.findall(path)
    assert len(found) == 1, (path, len(found))
    return found[0]


def text_of(element: Element) -> str:
    return " ".join("".join(element.itertext()).split())


def described_by(element: Element) -> list[str]:
    return (element.get("aria-describedby") or "").split()


def by_id(tree: Element, element_id: str) -> Element:
    return one(tree, f".//*[@id='{element_id}']")


# The documented examples, straight from each component's doc comment.


def _examples() -> Iterator[tuple[str, str]]:
    for name in COMPONENTS:
        source = (TEMPLATES_DIR / "components" / f"{name}.html").read_text(encoding="utf-8")
        comment = source.split("-#}", 1)[0]
        match = re.search(r"Example: (.*?)\n    (?:Accessibility|\S+ and behaviour)", comment, re.S)
        assert match, f"{name}.html has no Example line"
        yield name, " ".join(match.group(1).split())


class Feedback(BaseModel):
    comment: Annotated[str, Field(max_length=20), Messages(missing="Enter your comment")]
    useful: Literal["yes", "no"]
    topics: list[Literal["kodi", "ardhi"]]
    email: str = ""


@pytest.fixture
def invalid() -> FormInput[Feedback]:
    return form_validate(Feedback, [("comment", "   "), ("topics", "x"), ("email", HOSTILE)])


@pytest.mark.parametrize(("name", "example"), list(_examples()))
def test_every_documented_example_renders(
    env: Environment, invalid: FormInput[Feedback], name: str, example: str
) -> None:
    body = example if example.startswith("{%") else "{{ " + example + " }}"
    tree = render(env, body, "sw", form_input=invalid)
    assert len(tree) > 0 or text_of(tree), f"the {name} example rendered nothing"


# text_input


def test_text_input_label_hint_and_error_are_tied_to_the_field(env: Environment) -> None:
    tree = render(
        env,
        """{{ text_input({"name": "email", "label": {"text": "Email"},
            "hint": {"text": "We reply here"},
            "errorMessage": {"text": "Enter an email address"}, "value": "a@b"}) }}""",
    )
    field = one(tree, ".//input")
    assert field.get("id") == "email"
    assert field.get("name") == "email"
    assert field.get("type") == "text"
    assert one(tree, ".//label").get("for") == "email"
    assert described_by(field) == ["email-hint", "email-error"]
    assert text_of(by_id(tree, "email-hint")) == "We reply here"
    error = by_id(tree, "email-error")
    assert text_of(error) == "Error: Enter an email address"
    assert text_of(one(error, "./span[@class='visually-hidden']")) == "Error:"
    assert "field-error" in (one(tree, "./div").get("class") or "")
    assert field.get("value") == "a@b"


def test_text_input_error_prefix_is_in_the_readers_language(env: Environment) -> None:
    body = """{{ text_input({"name": "n", "label": {"text": "Jina"},
        "errorMessage": {"text": "x"}}) }}"""
    tree = render(env, body, "sw")
    assert text_of(one(tree, ".//span[@class='visually-hidden']")) == "Hitilafu:"


def test_text_input_without_hint_or_error_points_at_nothing(env: Environment) -> None:
    tree = render(env, """{{ text_input({"name": "q", "label": {"text": "Q"}, "value": ""}) }}""")
    field = one(tree, ".//input")
    assert field.get("aria-describedby") is None
    assert field.get("value") is None
    assert tree.findall(".//*[@class='error-message']") == []
    assert "field-error" not in (one(tree, "./div").get("class") or "")


def test_text_input_keeps_a_hostile_value_as_text(env: Environment) -> None:
    html = render_html(
        env,
        """{{ text_input({"name": "q", "label": {"text": "Q"}, "value": value}) }}""",
        value=HOSTILE,
    )
    assert "<script" not in html
    assert one(parse(html), ".//input").get("value") == HOSTILE


def test_text_is_escaped_and_html_is_not(env: Environment) -> None:
    tree = render(
        env,
        """{{ text_input({"name": "a", "label": {"text": "<b>bold</b>"},
            "hint": {"html": "<b>bold</b>"}}) }}""",
    )
    assert text_of(one(tree, ".//label")) == "<b>bold</b>"
    assert one(tree, ".//label").findall("b") == []
    assert text_of(one(by_id(tree, "a-hint"), "./b")) == "bold"


def test_html_wins_over_text(env: Environment) -> None:
    tree = render(env, """{{ label({"for": "a", "text": "plain", "html": "<em>rich</em>"}) }}""")
    assert text_of(one(tree, ".//label")) == "rich"


def test_id_options_and_attributes(env: Environment) -> None:
    tree = render(
        env,
        """{{ text_input({"name": "phone", "id": "simu", "type": "tel", "label": {"text": "Simu"},
            "autocomplete": "tel", "spellcheck": false, "classes": "input-short",
            "attributes": {"data-x": "1\\"2"}}) }}""",
    )
    field = one(tree, ".//input")
    assert field.get("id") == "simu"
    assert one(tree, ".//label").get("for") == "simu"
    assert (field.get("type"), field.get("autocomplete"), field.get("spellcheck")) == (
        "tel",
        "tel",
        "false",
    )
    assert field.get("data-x") == '1"2'
    assert field.get("class") == "input input-short"


# textarea


def test_textarea_keeps_its_text_and_tells_the_limit(env: Environment) -> None:
    value = "\nline one\n" + HOSTILE
    html = render_html(
        env,
        """{{ textarea({"name": "comment", "label": {"text": "Comment"}, "rows": 8,
            "maxlength": 1000, "hint": {"text": "No personal details"},
            "errorMessage": {"text": "Too long"}, "value": value}) }}""",
        value=value,
    )
    assert "<script" not in html
    tree = parse(html)
    area = one(tree, ".//textarea")
    assert area.text == value  # even the leading newline survives parsing
    assert area.get("rows") == "8"
    assert area.get("maxlength") is None  # the server tells; the browser does not cut
    assert one(tree, ".//label").get("for") == "comment" == area.get("id")
    assert described_by(area) == ["comment-hint", "comment-limit", "comment-error"]
    assert text_of(by_id(tree, "comment-limit")) == "You can enter up to 1,000 characters"


def test_textarea_limit_hint_in_swahili(env: Environment) -> None:
    tree = render(
        env, """{{ textarea({"name": "c", "label": {"text": "Maoni"}, "maxlength": 500}) }}""", "sw"
    )
    assert text_of(by_id(tree, "c-limit")) == "Unaweza kuandika hadi herufi 500"
    assert described_by(one(tree, ".//textarea")) == ["c-limit"]


# radios and checkboxes

RADIOS = """{{ radios({"name": "useful", "fieldset": {"legend": {"text": "Was this page useful?"}},
    "hint": {"text": "Choose one"}, "errorMessage": error, "value": value,
    "items": [{"value": "yes", "text": "Yes"},
              {"value": "no", "text": "No", "hint": {"text": "Tell us why below"}}]}) }}"""


@pytest.mark.parametrize("value", ["no", "yes"])
def test_radios_are_a_fieldset_and_keep_the_choice(env: Environment, value: str) -> None:
    tree = render(env, RADIOS, error={"text": "Select yes or no"}, value=value)
    fieldset = one(tree, ".//fieldset")
    assert text_of(one(fieldset, "./legend")) == "Was this page useful?"
    inputs = fieldset.findall(".//input")
    assert [i.get("type") for i in inputs] == ["radio", "radio"]
    assert [i.get("id") for i in inputs] == ["useful", "useful-2"]
    assert {i.get("name") for i in inputs} == {"useful"}
    assert [label.get("for") for label in fieldset.findall(".//label")] == ["useful", "useful-2"]
    assert [i.get("value") for i in inputs if i.get("checked") is not None] == [value]
    assert described_by(fieldset) == ["useful-hint", "useful-error"]
    assert text_of(one(fieldset, ".//*[@id='useful-error']")) == "Error: Select yes or no"
    assert one(fieldset, ".//*[@id='useful-hint']") is not None
    assert described_by(inputs[1]) == ["useful-2-item-hint"]
    assert text_of(by_id(tree, "useful-2-item-hint")) == "Tell us why below"
    assert inputs[0].get("aria-describedby") is None


def test_radios_with_nothing_chosen_check_nothing(env: Environment) -> None:
    tree = render(env, RADIOS, error=None, value="")
    assert [i for i in tree.iter("input") if i.get("checked") is not None] == []
    assert described_by(one(tree, ".//fieldset")) == ["useful-hint"]
    assert tree.findall(".//*[@id='useful-error']") == []


CHECKBOXES = """{{ checkboxes({"name": "topics", "idPrefix": "mada",
    "fieldset": {"legend": {"text": "Topics"}}, "errorMessage": error, "values": values,
    "items": [{"value": "kodi", "text": "Tax"}, {"value": "ardhi", "text": "Land"},
              {"value": "afya", "text": "Health", "checked": true}]}) }}"""


def test_checkboxes_keep_every_ticked_box(env: Environment) -> None:
    tree = render(env, CHECKBOXES, error={"text": "Select a topic"}, values=["ardhi"])
    fieldset = one(tree, ".//fieldset")
    assert text_of(one(fieldset, "./legend")) == "Topics"
    inputs = fieldset.findall(".//input")
    assert {i.get("type") for i in inputs} == {"checkbox"}
    assert [i.get("id") for i in inputs] == ["mada", "mada-2", "mada-3"]
    assert [i.get("value") for i in inputs if i.get("checked") is not None] == ["ardhi", "afya"]
    assert described_by(fieldset) == ["mada-error"]
    assert text_of(one(fieldset, ".//*[@id='mada-error']")) == "Error: Select a topic"


def test_checkboxes_value_is_matched_whole_not_as_a_substring(env: Environment) -> None:
    tree = render(env, CHECKBOXES, error=None, values=["kodiardhi"])
    assert [i.get("value") for i in tree.iter("input") if i.get("checked") is not None] == ["afya"]


# error summary

SUMMARY = """{{ error_summary({"errorList": errors}) }}"""


def test_error_summary_links_to_each_field(env: Environment) -> None:
    errors = [
        {"text": "Enter your comment", "href": "#comment"},
        {"text": "<i>x</i>", "href": "#useful"},
    ]
    tree = render(env, SUMMARY, errors=errors)
    summary = one(tree, "./div")
    assert summary.get("role") == "alert"
    assert summary.get("tabindex") == "-1"
    assert summary.get("autofocus") is not None
    assert text_of(one(summary, "./h2")) == "There is a problem"
    assert summary.get("aria-labelledby") == one(summary, "./h2").get("id")
    links = summary.findall(".//li/a")
    assert [(a.get("href"), text_of(a)) for a in links] == [
        ("#comment", "Enter your comment"),
        ("#useful", "<i>x</i>"),
    ]


def test_error_summary_in_swahili_and_empty_when_there_is_no_error(env: Environment) -> None:
    tree = render(env, SUMMARY, "sw", errors=[{"text": "Andika maoni yako", "href": "#comment"}])
    assert text_of(one(tree, ".//h2")) == "Kuna tatizo"
    assert render_html(env, SUMMARY, errors=[]).strip() == ""


def test_a_whole_form_with_errors_links_its_summary_to_fields_that_exist(
    env: Environment, invalid: FormInput[Feedback]
) -> None:
    html = render_html(
        env,
        """{{ error_summary({"errorList": form_input.error_list}) }}
        {% call form({"action": "/maoni"}) %}
        {{ textarea({"name": "comment", "label": {"text": "Comment"}, "maxlength": 20,
            "value": form_input.value("comment"),
            "errorMessage": form_input.error_message("comment")}) }}
        {{ radios({"name": "useful", "fieldset": {"legend": {"text": "Useful?"}},
            "items": [{"value": "yes", "text": "Yes"}, {"value": "no", "text": "No"}],
            "value": form_input.value("useful"),
            "errorMessage": form_input.error_message("useful")}) }}
        {{ checkboxes({"name": "topics", "fieldset": {"legend": {"text": "Topics"}},
            "items": [{"value": "kodi", "text": "Tax"}, {"value": "ardhi", "text": "Land"}],
            "values": form_input.value("topics", []),
            "errorMessage": form_input.error_message("topics")}) }}
        {{ text_input({"name": "email", "label": {"text": "Email"},
            "value": form_input.value("email"),
            "errorMessage": form_input.error_message("email")}) }}
        {{ button({"text": "Send"}) }}
        {% endcall %}""",
        form_input=invalid,
    )
    assert "<script" not in html
    tree = parse(html)
    hrefs = [a.get("href") for a in tree.findall(".//div[@role='alert']//a")]
    assert hrefs == ["#comment", "#useful", "#topics"]
    for href in hrefs:
        target = by_id(tree, href[1:])
        assert target.tag == "textarea" or target.get("type") in {"radio", "checkbox"}
        assert any(i.endswith("-error") for i in described_by(target)) or target.tag == "input"
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    labelled = {label.get("for") for label in tree.iter("label")}
    for field in [*tree.iter("input"), *tree.iter("textarea")]:
        if field.get("type") not in {"hidden"}:
            assert field.get("id") in labelled
    assert by_id(tree, "email").get("value") == HOSTILE
    assert text_of(by_id(tree, "comment-error")) == "Error: Enter your comment"


# button and form


def test_button_submits_and_can_be_a_link(env: Environment) -> None:
    tree = render(env, """{{ button({"text": "<Send>", "name": "action", "value": "draft"}) }}""")
    button = one(tree, "./button")
    assert (button.get("type"), button.get("name"), button.get("value")) == (
        "submit",
        "action",
        "draft",
    )
    assert text_of(button) == "<Send>"
    assert button.get("class") == "button"
    link = one(render(env, """{{ button({"html": "<b>Start</b>", "href": "/anza"}) }}"""), "./a")
    assert (link.get("href"), link.get("role")) == ("/anza", "button")
    assert text_of(one(link, "./b")) == "Start"


def test_form_posts_to_its_action_with_the_csrf_token(env: Environment) -> None:
    tree = render(
        env, """{% call form({"action": "/maoni?lang=en"}) %}<p>inside</p>{% endcall %}"""
    )
    form = one(tree, "./form")
    assert form.get("method") == "post"
    assert form.get("action") == "/maoni?lang=en"
    assert form.get("novalidate") is not None
    hidden = one(form, "./input")
    assert (hidden.get("type"), hidden.get("name"), hidden.get("value")) == (
        "hidden",
        "csrf_token",
        "tok-123",
    )
    assert text_of(one(form, "./p")) == "inside"


def test_form_takes_a_token_and_options_from_params(env: Environment) -> None:
    tree = render(
        env,
        """{% call form({"action": "/a", "csrfToken": "given", "id": "f",
            "enctype": "multipart/form-data"}) %}{% endcall %}""",
    )
    form = one(tree, "./form")
    assert (form.get("id"), form.get("enctype")) == ("f", "multipart/form-data")
    assert one(form, "./input").get("value") == "given"


def test_form_without_an_action_or_a_token_fails_loudly(env: Environment) -> None:
    with pytest.raises(UndefinedError):
        render_html(env, """{% call form({}) %}{% endcall %}""")
    template = env.from_string(
        '{% from "components/form.html" import form %}'
        '{% call form({"action": "/a"}) %}{% endcall %}'
    )
    with pytest.raises(UndefinedError):  # imported without context: no csrf_token to read
        template.render(csrf_token="tok")


# the layout's title

PAGE = """{% extends "layouts/base.html" %}{% block title %}Send feedback{% endblock %}"""


def _page_title(env: Environment, locale: str, form_input: FormInput[Any] | None) -> str:
    context: dict[str, Any] = {
        "locale": locale,
        "other_locale": "en" if locale == "sw" else "sw",
        "language_switch_url": "/?lang=en",
        "csp_nonce": "n",
        "csrf_token": "t",
        "request": SimpleNamespace(url=SimpleNamespace(path="/maoni")),
    }
    if form_input is not None:
        context["form_input"] = form_input
    token = i18n.use_locale(locale)
    try:
        html = env.from_string(PAGE).render(context)
    finally:
        i18n.reset_locale(token)
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    return text_of(one(tree, "./head/title"))


@pytest.mark.parametrize(("locale", "prefix"), [("en", "Error: "), ("sw", "Hitilafu: ")])
def test_the_title_says_error_when_the_form_has_errors(
    env: Environment, invalid: FormInput[Feedback], locale: str, prefix: str
) -> None:
    assert _page_title(env, locale, invalid) == f"{prefix}Send feedback – Mlango"


@pytest.mark.parametrize("form_input", [None, form_blank()])
def test_the_title_is_plain_without_errors(
    env: Environment, form_input: FormInput[Any] | None
) -> None:
    assert _page_title(env, "en", form_input) == "Send feedback – Mlango"
