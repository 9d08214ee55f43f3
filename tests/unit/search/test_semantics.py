"""The query rules of the embedded engine, word by word."""

from __future__ import annotations

import pytest

from portal.search.semantics import crop, highlight, query_parse, spelling_suggestion, typo_cost

SYNONYMS = {"hati ya kusafiria": ["pasipoti"], "tin": ["namba ya mlipakodi"]}


def parse(text: str):  # type: ignore[no-untyped-def]
    return query_parse(text, synonyms=SYNONYMS, stop_words=("ya", "na"), exact_words=("tin",))


def test_a_multi_word_synonym_is_one_term_even_with_a_stop_word() -> None:
    (term,) = parse("Hati ya KUSAFIRIA ").terms
    assert term.alternatives == (("hati", "ya", "kusafiria"), ("pasipoti",))
    assert not term.prefix


def test_stop_words_are_dropped_unless_they_are_all_there_is() -> None:
    assert [t.original for t in parse("leseni ya udereva").terms] == [("leseni",), ("udereva",)]
    assert [t.original for t in parse("ya na").terms] == [("ya",), ("na",)]


def test_the_last_word_is_a_prefix_only_without_a_trailing_space() -> None:
    assert parse("leseni ud").terms[-1].prefix
    assert not parse("leseni ud ").terms[-1].prefix


def test_exact_words_and_numbers_allow_no_typo() -> None:
    assert parse("TIN 152 ").terms[0].exact
    assert parse("TIN 152 ").terms[1].exact


def test_phrases_are_kept_whole_and_unterminated_quotes_are_plain_words() -> None:
    parsed = parse('"leseni ya udereva" tra')
    assert parsed.phrases == (("leseni", "ya", "udereva"),)
    assert [t.original for t in parsed.terms] == [("tra",)]
    assert parse('"leseni').phrases == ()


@pytest.mark.parametrize(
    ("word", "candidate", "budget", "cost"),
    [
        ("lesseni", "leseni", 1, 1),
        ("passprot", "passport", 1, 1),  # a swap is one edit
        ("laini", "faini", 1, None),  # a new first letter costs two
        ("regstraton", "registration", 2, 2),
        ("umme", "umeme", 0, None),
    ],
)
def test_typo_cost(word: str, candidate: str, budget: int, cost: int | None) -> None:
    assert typo_cost(word, candidate, budget) == cost


def test_highlighting_escapes_first_and_marks_whole_words() -> None:
    html = highlight("<b>Leseni</b> & leseni-ya", {"leseni"}, set())
    assert html == "&lt;b&gt;<mark>Leseni</mark>&lt;/b&gt; &amp; <mark>leseni</mark>-ya"


def test_cropping_keeps_a_window_around_the_first_match() -> None:
    text = " ".join(["neno"] * 40 + ["pasipoti"] + ["neno"] * 40)
    cropped = crop(text, {"pasipoti"}, set(), length=10)
    assert cropped.startswith("…")
    assert cropped.endswith("…")
    assert "<mark>pasipoti</mark>" in cropped
    assert cropped.count("neno") == 9


def test_spelling_suggestions_come_from_the_known_terms() -> None:
    known = {"passport", "hati ya kusafiria", "leseni"}
    assert spelling_suggestion("pasporrt", known) == "passport"
    assert spelling_suggestion("leseni ya udereva", known) is None
    assert spelling_suggestion("zzzzzzzz", known) is None
