"""Meilisearch's matching rules, in plain Python, for the embedded engine.

Normalisation (decompose, drop accents, lowercase, split on non-alphanumerics), quoted phrases,
the last word as a prefix unless the query ends with a space, stop words, synonyms of one to three
words, and the typo budget: none below 5 letters, one from 5, two from 9, a changed first letter
costing two, and no typos on numbers or on the index's exact words. Highlighting escapes the text
first and then marks matches, so no document text can inject HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from markupsafe import escape
from rapidfuzz.distance import OSA

MAX_QUERY_WORDS = 10
MAX_WORD_LENGTH = 64
MAX_SYNONYM_WORDS = 3
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
CROP_MARKER = "…"


def normalize(text: str) -> str:
    """Lowercase without accents, as Meilisearch's Latin pipeline sees it."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    return _TOKEN.findall(normalize(text))


def typo_budget(word: str) -> int:
    if word.isdigit():
        return 0
    if len(word) >= 9:
        return 2
    return 1 if len(word) >= 5 else 0


def typo_cost(query_word: str, candidate: str, budget: int) -> int | None:
    """Edits from query word to candidate (a swap is one; a new first letter costs two)."""
    if query_word == candidate:
        return 0
    if budget == 0 or not candidate:
        return None
    first_letter = 0 if candidate[0] == query_word[0] else 1
    distance = OSA.distance(query_word, candidate, score_cutoff=budget)
    cost = distance + first_letter
    return cost if cost <= budget else None


@dataclass(frozen=True)
class Term:
    """One unit of the query the `last` strategy may drop: a word, a phrase or a synonym group.

    `alternatives` are word sequences that each satisfy the unit (the original first);
    `prefix` marks the last word typed without a trailing space; `exact` forbids typos.
    """

    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False
    exact: bool = False

    @property
    def original(self) -> tuple[str, ...]:
        return self.alternatives[0]


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[Term, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def placeholder(self) -> bool:
        return not self.terms and not self.phrases


def query_parse(
    text: str,
    *,
    synonyms: Mapping[str, list[str]],
    stop_words: Iterable[str],
    exact_words: Iterable[str],
) -> ParsedQuery:
    """Turn what a person typed into terms and phrases; nothing typed reaches an engine raw."""
    phrases: list[tuple[str, ...]] = []
    free_parts: list[str] = []
    for index, part in enumerate(text.split('"')):
        if index % 2 == 1 and index < len(text.split('"')) - 1:  # a closed quote
            phrase = tuple(words(part))
            if phrase:
                phrases.append(phrase[:MAX_QUERY_WORDS])
        else:
            free_parts.append(part)
    free_text = " ".join(free_parts)
    typed = [w[:MAX_WORD_LENGTH] for w in words(free_text)][:MAX_QUERY_WORDS]
    stops = set(stop_words)
    only_stop_words = all(w in stops for w in typed)
    exact = set(exact_words)
    ends_open = bool(typed) and not free_text[-1:].isspace() and not text.endswith('"')

    terms: list[Term] = []
    position = 0
    while position < len(typed):
        # Synonym keys of up to three words are tried first, stop words included ("hati ya ...").
        size = next(
            (
                n
                for n in range(min(MAX_SYNONYM_WORDS, len(typed) - position), 1, -1)
                if " ".join(typed[position : position + n]) in synonyms
            ),
            1,
        )
        key = " ".join(typed[position : position + size])
        position += size
        if size == 1 and key in stops and not only_stop_words:
            continue
        alternatives = [tuple(key.split())]
        alternatives += [tuple(words(a)) for a in synonyms.get(key, []) if words(a)]
        terms.append(
            Term(
                alternatives=tuple(dict.fromkeys(alternatives)),
                prefix=position == len(typed) and ends_open and size == 1,
                exact=size == 1 and (key in exact or key.isdigit()),
            )
        )
    return ParsedQuery(terms=tuple(terms), phrases=tuple(phrases))


def highlight(text: str, matched: set[str], prefixes: set[str]) -> str:
    """Escaped text with <mark> around words whose normalised form matched."""
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        word = normalize(match.group())
        if word in matched or any(word.startswith(p) for p in prefixes):
            out.append(str(escape(text[last : match.start()])))
            out.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


def crop(text: str, matched: set[str], prefixes: set[str], length: int = 24) -> str:
    """About `length` words of text around the first match, marked, with crop markers."""
    tokens = list(_TOKEN.finditer(text))
    if len(tokens) <= length:
        return highlight(text, matched, prefixes)
    first = next(
        (
            i
            for i, t in enumerate(tokens)
            if normalize(t.group()) in matched
            or any(normalize(t.group()).startswith(p) for p in prefixes)
        ),
        0,
    )
    start = max(0, min(first - length // 3, len(tokens) - length))
    end = start + length
    begin = tokens[start].start()
    finish = tokens[end - 1].end() if end <= len(tokens) else len(text)
    cropped = highlight(text[begin:finish], matched, prefixes)
    return (CROP_MARKER if start > 0 else "") + cropped + (CROP_MARKER if end < len(tokens) else "")


def spelling_suggestion(text: str, vocabulary: set[str]) -> str | None:
    """The query with each unknown word replaced by the closest known word (two edits at most),
    or None when nothing would change. The vocabulary is the curated synonym terms."""
    known = {w for term in vocabulary for w in words(term)}
    typed = words(text)
    corrected = []
    for word in typed:
        if word in known or len(word) < 4:
            corrected.append(word)
            continue
        best = min(
            (
                (OSA.distance(word, k, score_cutoff=2), k)
                for k in known
                if abs(len(k) - len(word)) <= 2
            ),
            default=(3, word),
        )
        corrected.append(best[1] if best[0] <= 2 else word)
    return " ".join(corrected) if corrected != typed else None
