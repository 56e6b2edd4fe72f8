"""Records, sentence spans and chunks: determinism and the offset invariants, for every chunk."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunk import Chunker, chunk_sentences
from index.errors import SettingsError
from index.records import Article, Chunk, content_hash, make_article
from index.sentences import split_sentences

from .conftest import SEED, tiny_articles


def test_article_ids_are_deterministic_and_content_based() -> None:
    a = make_article("Text one.", title="T", source="S", published=date(2026, 1, 2))
    b = make_article("Text one.", title="T", source="S", published=date(2026, 1, 2))
    c = make_article("Text two.", title="T", source="S", published=date(2026, 1, 2))
    assert a.id == b.id != c.id
    assert len(a.id) == 16
    # the url decides when there is one, whatever the text
    assert make_article("x", url="https://e.org/a").id == make_article("y", url="https://e.org/a").id


def test_known_id_is_kept_and_hash_ignores_whitespace() -> None:
    assert make_article("Body.", id="rtqa-1").id == "rtqa-1"
    assert content_hash("a \n b") == content_hash("a b") != content_hash("a c")


def test_article_and_chunk_round_trip_through_dicts() -> None:
    article = tiny_articles()[0]
    assert Article.from_dict(article.to_dict()) == article
    chunk = Chunk("x:0", "x", "abc", 3, 6)
    assert Chunk.from_dict(chunk.to_dict()) == chunk


def test_sentences_split_on_stops_but_not_abbreviations() -> None:
    text = 'The U.S. Senate met. Gen. Smith said "We will win." Dr. J. Doe left at 5 p.m. Friday.\n\nNext para'
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == [
        "The U.S. Senate met.",
        'Gen. Smith said "We will win."',
        "Dr. J. Doe left at 5 p.m. Friday.",
        "Next para",
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab .!?\n"”A1'), max_size=300))
def test_sentence_spans_are_ordered_stripped_and_inside_the_text(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and piece
        previous_end = end
    # nothing but whitespace is lost between spans
    covered = "".join(text[a:b] for a, b in spans)
    assert "".join(covered.split()) == "".join(text.split())


def test_every_chunk_of_the_seed_article_round_trips_and_respects_the_size() -> None:
    article = make_article(SEED.read_text(encoding="utf-8"), title="seed")
    chunker = Chunker(size=300, overlap=50)
    chunks = chunker.chunk(article)
    assert len(chunks) > 3
    for n, chunk in enumerate(chunks):
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 300
        assert chunk.id == f"{article.id}:{n}"
    # chunks cover the article in order
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_chunks_end_at_sentence_boundaries_when_sentences_fit() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    article = make_article(text)
    for chunk in Chunker(size=120, overlap=0).chunk(article):
        assert chunk.text.endswith("here.")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=2000), st.integers(50, 400))
def test_chunk_offsets_round_trip_for_any_text(text: str, size: int) -> None:
    article = make_article(text)
    chunker = Chunker(size=size, overlap=size // 5)
    chunks = chunker.chunk(article)
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text
    rows = list(enumerate(chunks))
    for sentence in chunk_sentences(article, rows):
        chunk = chunks[sentence.chunk_row]
        assert chunk.start <= sentence.start < sentence.end <= chunk.end


def test_bad_chunk_settings_are_rejected() -> None:
    with pytest.raises(SettingsError):
        Chunker(size=10)
    with pytest.raises(SettingsError):
        Chunker(size=100, overlap=100)
