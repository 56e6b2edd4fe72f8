"""Example questions for an empty chat, derived from the loaded articles' titles: articles -> questions.

A title such as "Lavrov affirms Russia support for urgent ceasefire in Gaza" reads
"<subject> <verb>s <object>"; it becomes "What did Lavrov call for?" when the verb asks
for something, else "What did <subject> <verb>?" ("the museum" unless the article itself
writes the subject as a name). Deterministic: newest articles first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from index.records import Article

_CALL_VERBS = frozenset(
    [
        "affirms",
        "urges",
        "calls",
        "demands",
        "backs",
        "supports",
        "seeks",
        "pushes",
        "asks",
        "wants",
        "presses",
        "appeals",
        "pleads",
        "insists",
    ]
)
_SKIP_SUBJECT = frozenset(
    ["a", "an", "the", "this", "that", "these", "those", "how", "why", "what", "who", "when", "where"]
)
_TITLE = re.compile(r"^(?P<subject>(?:[\w’'.-]+\s+){0,3}?[\w’'.-]+)\s+(?P<verb>[a-z]{3,}(?:es|s))\b(?P<rest>.*)$")


def _base_form(verb: str) -> str:
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if re.search(r"(?:ss|sh|ch|x|z|o)es$", verb):
        return verb[:-2]
    return verb[:-1]


def _is_name(word: str, text: str) -> bool:
    """A capitalised headline word is a name when the article also capitalises it mid-sentence (or an acronym)."""
    if len(word) > 1 and word.isupper():
        return True
    return word[:1].isupper() and re.search(rf"(?<![\w’'-])[a-z]+,?\s+{re.escape(word)}\b", text) is not None


def question_from_title(title: str, text: str = "") -> str | None:
    """A question the article answers, from its headline; None when the title has no usable shape.

    Example:
        >>> question_from_title("Lavrov affirms support for a ceasefire", "It said that Lavrov met them.")
        'What did Lavrov call for?'
        >>> question_from_title("City council approves bike lanes")
        'What did the city council approve?'
    """
    match = _TITLE.match(" ".join(title.split()))
    if not match:
        return None
    subject, verb = match.group("subject"), match.group("verb")
    words = subject.split()
    if words[0].lower() in _SKIP_SUBJECT or verb.endswith("ss"):
        return None
    if not all(_is_name(w, text) for w in words):
        subject = "the " + subject.lower()
    if verb in _CALL_VERBS:
        return f"What did {subject} call for?"
    return f"What did {subject} {_base_form(verb)}?"


def example_questions(articles: Iterable[Article], limit: int = 4) -> list[str]:
    """Up to ``limit`` distinct questions from the newest articles' titles."""
    ordered = sorted(articles, key=lambda a: (-(a.published or date.min).toordinal(), a.title, a.id))
    found: list[str] = []
    for article in ordered:
        question = question_from_title(article.title, article.text)
        if question and question not in found:
            found.append(question)
        if len(found) >= limit:
            break
    return found
