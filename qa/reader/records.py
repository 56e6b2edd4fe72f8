"""What the reader reads and returns: candidate sentences in (``SentenceIn``), a picked ``Span`` out.

``SentenceIn`` is built from the answer step's own candidates (``from_candidates``) at
question time and by the training collector (train/collect.py) from the same candidates,
so training and answering see the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from index.records import Article

Entity = tuple[int, int, str]  # start, end (characters into the sentence), OntoNotes label
READ_SENTENCES = 30  # the reader reads this many of the answer step's best candidates


class CandidateLike(Protocol):
    """The fields of ``qa.answer.Candidate`` the reader needs (any record with them will do)."""

    @property
    def article_id(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def dense(self) -> float: ...
    @property
    def keyword(self) -> float: ...
    @property
    def passage_rank(self) -> int: ...


class TaggerLike(Protocol):
    """``qa.ner.EntityTagger``: entities per text, or None when the model is missing."""

    def entities(self, texts: Sequence[str]) -> list[list[Entity]] | None: ...


@dataclass(frozen=True)
class SentenceIn:
    """One candidate sentence as the reader sees it.

    ``dense``: the stored sentence vector's cosine with the question; ``keyword``: the answer
    step's BM25-idf share of the question's words in it; ``score``: the rule score (after
    re-embedding and the entity check); ``rank``: its passage's rank (1 = best);
    ``order``: its place in the rules' ranking (0 = best); ``headline``: it is the title or
    the article's first line; ``entities``: spaCy's entities in ``text``.
    """

    text: str
    dense: float
    keyword: float
    score: float
    rank: int
    order: int
    headline: bool
    article_id: str = ""
    start: int = 0
    end: int = 0
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class Span:
    """A short answer cut from ``sentences[sentence]``: ``text == sentence.text[start:end]``."""

    text: str
    sentence: int
    start: int
    end: int
    prob: float


def is_headline(article: Article, start: int, end: int) -> bool:
    """The sentence is the article's title, or its whole first line (a headline restates the topic)."""
    text = article.text
    sentence = text[start:end].rstrip(".")
    return sentence == article.title.rstrip(".") or (not text[:start].strip() and text[end : end + 1] in ("\n", ""))


def from_candidates(
    candidates: Sequence[CandidateLike],
    articles: Mapping[str, Article],
    tagger: TaggerLike | None,
    limit: int = READ_SENTENCES,
) -> list[SentenceIn]:
    """The first ``limit`` candidates (the rules' order) as ``SentenceIn``, tagged by ``tagger``."""
    top = list(candidates[:limit])
    texts = [articles[c.article_id].text[c.start : c.end] for c in top]
    tags = tagger.entities(texts) if tagger is not None and texts else None
    return [
        SentenceIn(
            text=text,
            dense=float(c.dense),
            keyword=float(c.keyword),
            score=float(c.score),
            rank=int(c.passage_rank),
            order=i,
            headline=is_headline(articles[c.article_id], c.start, c.end),
            article_id=c.article_id,
            start=c.start,
            end=c.end,
            entities=tuple(tags[i]) if tags is not None else (),
        )
        for i, (c, text) in enumerate(zip(top, texts, strict=True))
    ]
