"""Split an Article into Chunks (langchain-text-splitters) and Chunks into sentence spans."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from index.errors import SettingsError
from index.records import Article, Chunk, Sentence
from index.sentences import split_sentences

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

# Paragraphs first, then lines, then sentence ends, then clauses and words: a chunk
# boundary falls at the largest unit that keeps the chunk under the size limit.
_SEPARATORS = [
    r"\n\s*\n",
    r"\n",
    r"(?<=[.!?])\s+",
    r"(?<=[.!?][\"'”’)])\s+",
    r";\s+",
    r",\s+",
    r"\s+",
    "",
]


class Chunker:
    """Cuts articles into sentence-aware chunks of at most ``size`` characters.

    Example:
        >>> from index.records import make_article
        >>> a = make_article("The ferry left at noon. It reached Gull Island an hour later. "
        ...                  "Tickets cost twelve dollars.", title="t")
        >>> [c.text for c in Chunker(size=70, overlap=0).chunk(a)]
        ['The ferry left at noon. It reached Gull Island an hour later.', 'Tickets cost twelve dollars.']
    """

    def __init__(self, size: int = 800, overlap: int = 120) -> None:
        if size < 50 or not 0 <= overlap < size:
            raise SettingsError(f"chunk size {size} / overlap {overlap}: need size >= 50 and 0 <= overlap < size")
        self.size = size
        self.overlap = overlap
        self._splitter: RecursiveCharacterTextSplitter | None = None

    def _get_splitter(self) -> RecursiveCharacterTextSplitter:
        if self._splitter is None:
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            self._splitter = RecursiveCharacterTextSplitter(
                chunk_size=self.size,
                chunk_overlap=self.overlap,
                separators=_SEPARATORS,
                is_separator_regex=True,
                keep_separator="end",
                strip_whitespace=True,
                add_start_index=True,
            )
        return self._splitter

    def chunk(self, article: Article) -> list[Chunk]:
        """Return the article's chunks, in order; ``article.text[c.start:c.end] == c.text``."""
        chunks: list[Chunk] = []
        cursor = 0
        for doc in self._get_splitter().create_documents([article.text]):
            text = doc.page_content
            start = int(doc.metadata.get("start_index", -1))
            if article.text[start : start + len(text)] != text:
                # the splitter's own offset search can miss after stripping; find it again
                start = article.text.find(text, max(0, cursor - self.size))
                if start < 0:
                    start = article.text.find(text)
            if start < 0 or not text.strip():
                continue
            cursor = start
            chunks.append(Chunk(f"{article.id}:{len(chunks)}", article.id, text, start, start + len(text)))
        return chunks


def chunk_sentences(article: Article, chunks: Iterable[tuple[int, Chunk]]) -> list[Sentence]:
    """Sentence spans (article offsets) of each (row, chunk), in row order."""
    sentences: list[Sentence] = []
    for row, chunk in chunks:
        for start, end in split_sentences(article.text, chunk.start, chunk.end):
            sentences.append(Sentence(row, start, end))
    return sentences
