"""Records passed between the indexing stages: Article, Chunk, Sentence (frozen dataclasses)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date


def content_hash(text: str) -> str:
    """Return the SHA-256 hex digest of an article's text (whitespace-normalised).

    Example:
        >>> content_hash("a  b") == content_hash("a b")
        True
    """
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def article_id(url: str, source: str, title: str, published: date | None, text: str) -> str:
    """Deterministic article id: from the url when there is one, else from the content.

    Never random and never Python's salted ``hash()``, so the same article gets the same
    id on every machine and every run.
    """
    basis = (
        url.strip() if url.strip() else "\x1f".join([source, title, published.isoformat() if published else "", text])
    )
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Article:
    """One news article. ``text`` is the exact text that chunks and quotes point into."""

    id: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: date | None = None
    author: str = ""
    content_hash: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "source": self.source,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "author": self.author,
            "content_hash": self.content_hash,
        }

    @classmethod
    def from_dict(cls, row: dict[str, object]) -> Article:
        published = row.get("published")
        return cls(
            id=str(row["id"]),
            title=str(row.get("title") or ""),
            text=str(row["text"]),
            source=str(row.get("source") or ""),
            url=str(row.get("url") or ""),
            published=date.fromisoformat(str(published)) if published else None,
            author=str(row.get("author") or ""),
            content_hash=str(row.get("content_hash") or ""),
        )


def make_article(
    text: str,
    title: str = "",
    source: str = "",
    url: str = "",
    published: date | None = None,
    author: str = "",
    id: str | None = None,
) -> Article:
    """Build an Article with its deterministic id and content hash filled in.

    Example:
        >>> a = make_article("Lavrov met Arab ambassadors.", title="Lavrov")
        >>> a.id == make_article("Lavrov met Arab ambassadors.", title="Lavrov").id
        True
    """
    return Article(
        id=id or article_id(url, source, title, published, text),
        title=title,
        text=text,
        source=source,
        url=url,
        published=published,
        author=author,
        content_hash=content_hash(text),
    )


@dataclass(frozen=True)
class Chunk:
    """A span of an article. Invariant: ``article.text[start:end] == text``."""

    id: str
    article_id: str
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "article_id": self.article_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, row: dict[str, object]) -> Chunk:
        return cls(
            id=str(row["id"]),
            article_id=str(row["article_id"]),
            text=str(row["text"]),
            start=int(row["start"]),  # type: ignore[call-overload]
            end=int(row["end"]),  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class Sentence:
    """A sentence inside a chunk, with article offsets; row ``i`` of the sentence vectors."""

    chunk_row: int
    start: int
    end: int
