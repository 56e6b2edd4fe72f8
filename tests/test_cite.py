"""Quote verification: exact quotes kept, movable ones repaired, the rest dropped; property-tested."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.records import make_article
from qa.cite import verify_quote, verify_quotes
from qa.records import Quote

ARTICLE = make_article("Lavrov called for an urgent ceasefire. He met envoys. Lavrov called for calm.")


def test_exact_quote_is_returned_unchanged() -> None:
    quote = Quote(ARTICLE.id, 0, 38, "Lavrov called for an urgent ceasefire.")
    assert verify_quote(quote, ARTICLE) is quote


def test_wrong_offsets_move_to_the_nearest_occurrence() -> None:
    # "Lavrov called for" occurs at 0 and at 54; the claim (50) is nearer the second
    fixed = verify_quote(Quote(ARTICLE.id, 50, 67, "Lavrov called for"), ARTICLE)
    assert fixed is not None and (fixed.start, fixed.end) == (54, 71)
    assert ARTICLE.text[fixed.start : fixed.end] == fixed.text


def test_whitespace_differences_are_repaired_to_the_article_characters() -> None:
    fixed = verify_quote(Quote(ARTICLE.id, 0, 0, "an  urgent\nceasefire"), ARTICLE)
    assert fixed is not None and fixed.text == "an urgent ceasefire"
    assert ARTICLE.text[fixed.start : fixed.end] == fixed.text


def test_invented_or_misattributed_quotes_are_dropped() -> None:
    assert verify_quote(Quote(ARTICLE.id, 0, 10, "Blinken urged restraint"), ARTICLE) is None
    assert verify_quote(Quote("other-article", 0, 6, "Lavrov"), ARTICLE) is None
    assert verify_quote(Quote(ARTICLE.id, 0, 0, "   "), ARTICLE) is None
    assert verify_quote(Quote(ARTICLE.id, 0, 6, "Lavrov"), None) is None


def test_verify_quotes_keeps_order_and_removes_duplicates() -> None:
    quotes = [
        Quote(ARTICLE.id, 39, 53, "He met envoys."),
        Quote("missing", 0, 3, "abc"),
        Quote(ARTICLE.id, 0, 14, "He met envoys."),  # same span once repaired
        Quote(ARTICLE.id, 0, 6, "Lavrov"),
    ]
    got = verify_quotes(quotes, {ARTICLE.id: ARTICLE})
    assert [(q.start, q.text) for q in got] == [(39, "He met envoys."), (0, "Lavrov")]


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=300), st.data())
def test_any_verified_quote_is_verbatim_at_its_offsets(text: str, data: st.DataObject) -> None:
    article = make_article(text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    claimed_text = data.draw(st.one_of(st.just(text[start:end]), st.text(max_size=20)))
    claimed_start = data.draw(st.integers(-5, len(text) + 5))
    result = verify_quote(Quote(article.id, claimed_start, claimed_start + len(claimed_text), claimed_text), article)
    if result is not None:
        assert article.text[result.start : result.end] == result.text
        assert result.text.strip()
    if claimed_text.strip() and claimed_text in text:
        assert result is not None and result.text == claimed_text
