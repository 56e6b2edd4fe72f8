"""Verify quotes against their articles: candidate Quotes -> verified Quotes (pure, no I/O).

Every quote the assistant shows passes through :func:`verify_quote`. A quote whose
offsets hold exactly its text is kept; one whose text is found elsewhere in the article
is repaired (offsets moved to the nearest exact occurrence); one whose text differs only
in whitespace is repaired to the article's own characters; anything else is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from index.records import Article
from qa.records import Quote


def _nearest(text: str, needle: str, near: int) -> int:
    """Start of the occurrence of ``needle`` in ``text`` nearest to ``near``, or -1."""
    best, position = -1, text.find(needle)
    while position >= 0:
        if best < 0 or abs(position - near) < abs(best - near):
            best = position
        position = text.find(needle, position + 1)
    return best


def _whitespace_insensitive(text: str, needle: str, near: int) -> tuple[int, int] | None:
    words = needle.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    best = min(matches, key=lambda m: abs(m.start() - near))
    return best.start(), best.end()


def verify_quote(quote: Quote, article: Article | None) -> Quote | None:
    """Return ``quote`` if exact, a repaired copy if it can be located, else None.

    Example:
        >>> from index.records import make_article
        >>> a = make_article("Lavrov called for an urgent ceasefire.")
        >>> verify_quote(Quote(a.id, 0, 6, "Lavrov"), a) is not None
        True
        >>> verify_quote(Quote(a.id, 0, 6, "Blinken"), a) is None
        True
        >>> verify_quote(Quote(a.id, 0, 5, "urgent  ceasefire"), a).start
        21
    """
    if article is None or article.id != quote.article_id or not quote.text.strip():
        return None
    text = article.text
    if 0 <= quote.start <= quote.end <= len(text) and text[quote.start : quote.end] == quote.text:
        return quote
    start = _nearest(text, quote.text, quote.start)
    if start >= 0:
        return Quote(quote.article_id, start, start + len(quote.text), quote.text)
    span = _whitespace_insensitive(text, quote.text, quote.start)
    if span is None:
        return None
    return Quote(quote.article_id, span[0], span[1], text[span[0] : span[1]])


def verify_quotes(quotes: Iterable[Quote], articles: Mapping[str, Article]) -> list[Quote]:
    """The verified quotes, in order, without duplicates; unverifiable ones are dropped."""
    seen: set[tuple[str, int, int]] = set()
    verified: list[Quote] = []
    for quote in quotes:
        checked = verify_quote(quote, articles.get(quote.article_id))
        if checked is None:
            continue
        key = (checked.article_id, checked.start, checked.end)
        if key not in seen:
            seen.add(key)
            verified.append(checked)
    return verified
