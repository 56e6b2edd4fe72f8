"""Render answers for the chat: Answer + articles -> HTML (pure functions; every article string escaped).

Article text is untrusted: whatever a page or feed contained goes through ``html.escape``
before it reaches the browser, and only http(s) links become ``href``s. The markup is
written without blank lines or indentation so that the chat's Markdown pass leaves it
as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from html import escape
from urllib.parse import urlparse

from index.records import Article
from qa.records import Answer, Citation, Passage

CONTEXT_SENTENCES = 2  # sentences shown either side of a quote
PASSAGE_PREVIEW_CHARS = 420
_SENTENCE_END = re.compile(r"(?<=[.!?…])[”\"’')\]]*\s+|\n\s*\n")


def _e(text: str) -> str:
    return escape(text, quote=True)


def safe_url(url: str) -> str | None:
    """``url`` if it is an http(s) link with a host, else None (no ``javascript:``, ``file:``, relative paths)."""
    try:
        parsed = urlparse(url.strip())
    except ValueError:
        return None
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def sentence_bounds(text: str) -> list[int]:
    """Offsets where sentences (or paragraphs) start in ``text``, always including 0."""
    return [0, *(m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text))]


def context_window(text: str, start: int, end: int, sentences: int = CONTEXT_SENTENCES) -> tuple[int, int]:
    """The span of ``text`` covering ``[start, end)`` plus ``sentences`` whole sentences either side.

    Example:
        >>> context_window("A one. B two. C three. D four.", 7, 13, 1)
        (0, 23)
    """
    bounds = sentence_bounds(text)
    first = max(i for i, b in enumerate(bounds) if b <= start)
    last = next((i for i, b in enumerate(bounds) if b >= end), len(bounds))
    lo = bounds[max(0, first - sentences)]
    hi_index = last + sentences
    hi = bounds[hi_index] if hi_index < len(bounds) else len(text)
    return lo, max(hi, end)


def _paragraphs(text: str) -> str:
    """Escaped text, blank-line paragraph breaks as ``<br><br>``, other whitespace runs as one space.

    No raw newline survives: the chat's Markdown pass would act on them.
    """
    parts = re.split(r"(\s*\n\s*\n\s*|\s+)", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(_e(part))
        else:
            out.append("<br><br>" if part.count("\n") >= 2 else " ")
    return "".join(out)


def _inline(text: str) -> str:
    """Escaped text on one line: every whitespace run (paragraph breaks included) as one space."""
    return _e(re.sub(r"\s+", " ", text))


def highlight(text: str, start: int, end: int, paragraphs: bool = True) -> str:
    """Escaped ``text`` with ``text[start:end]`` wrapped in ``<mark>``; offsets are into the raw text.

    ``paragraphs`` False runs the paragraphs together (the short context under a source).
    """
    fmt = _paragraphs if paragraphs else _inline
    return f"{fmt(text[:start])}<mark>{fmt(text[start:end])}</mark>{fmt(text[end:])}"


def _meta(title: str, source: str, published: date | None, url: str) -> str:
    link = safe_url(url)
    title_html = (
        f'<a href="{_e(link)}" target="_blank" rel="noopener noreferrer">{_e(title)}</a>' if link else _e(title)
    )
    bits = [f'<span class="nq-outlet">{_e(source)}</span>' if source else ""]
    if published:
        bits.append(f'<time datetime="{published.isoformat()}">{published.strftime("%-d %b %Y")}</time>')
    line = " · ".join(b for b in bits if b)
    return f'<div class="nq-title">{title_html or "(untitled)"}</div><div class="nq-meta">{line}</div>'


def _anchor(turn: int, n: int) -> str:
    return f"nq-{turn}-src-{n}"


def render_source(citation: Citation, article: Article | None, turn: int) -> str:
    """One entry of the sources panel: metadata, the quote marked inside its context, the whole article."""
    return render_card([citation], article, turn)


def _context(citation: Citation, article: Article | None, anchor: str) -> str:
    """The quote marked inside a few sentences of its article (the quote alone when it is not found)."""
    q = citation.quote
    ident = f' id="{anchor}"' if anchor else ""
    if article is None or article.text[q.start : q.end] != q.text:
        return f'<p class="nq-context"{ident}><mark>{_e(q.text)}</mark></p>'
    lo, hi = context_window(article.text, q.start, q.end)
    before = "… " if lo > 0 else ""
    after = " …" if hi < len(article.text) else ""
    window = highlight(article.text[lo:hi], q.start - lo, q.end - lo, paragraphs=False).strip()
    return f'<p class="nq-context"{ident}>{before}{window}{after}</p>'


def _whole_article(text: str, spans: list[tuple[int, int]]) -> str:
    """The escaped article with every quoted span in ``<mark>`` (spans sorted, overlaps merged)."""
    out, at = [], 0
    for start, end in sorted(spans):
        start = max(start, at)
        if end <= start:
            continue
        out.append(f"{_paragraphs(text[at:start])}<mark>{_paragraphs(text[start:end])}</mark>")
        at = end
    out.append(_paragraphs(text[at:]))
    return "".join(out)


def render_card(citations: list[Citation], article: Article | None, turn: int) -> str:
    """One card of the sources panel for every quote from one article: its numbers and metadata
    once, each quote marked in its context (each with the anchor its ``[n]`` links to), and the
    whole article with all of them marked."""
    first = citations[0]
    head = "".join(f'<span class="nq-n">{c.n}</span>' for c in citations)
    meta = _meta(first.title, first.source, first.published, first.url)
    # the card carries the first quote's anchor (so :target outlines it); later quotes their own
    body = "".join(_context(c, article, _anchor(turn, c.n) if i else "") for i, c in enumerate(citations))
    found = [
        c.quote for c in citations if article is not None and article.text[c.quote.start : c.quote.end] == c.quote.text
    ]
    if article is not None and found:
        windows = [context_window(article.text, q.start, q.end) for q in found]
        if len(found) > 1 or any(lo > 0 or hi < len(article.text) for lo, hi in windows):
            body += (
                '<details class="nq-full"><summary>Whole article</summary>'
                f"<p>{_whole_article(article.text, [(q.start, q.end) for q in found])}</p></details>"
            )
    return f'<li class="nq-source" id="{_anchor(turn, first.n)}">{head}<div class="nq-body">{meta}{body}</div></li>'


def group_by_article(citations: Iterable[Citation]) -> list[list[Citation]]:
    """Citations grouped by article, groups in the order of their first quote.

    Example:
        >>> from qa.records import Quote
        >>> cite = lambda n, a: Citation(n, Quote(a, 0, 1, "x"), "", "", "", None)
        >>> [[c.n for c in g] for g in group_by_article([cite(1, "a"), cite(2, "b"), cite(3, "a")])]
        [[1, 3], [2]]
    """
    groups: dict[str, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.quote.article_id, []).append(citation)
    return list(groups.values())


def render_passage(passage: Passage, article: Article | None) -> str:
    """A "closest we found" entry: the passage text (shortened), with its article's metadata."""
    text = (
        passage.text
        if len(passage.text) <= PASSAGE_PREVIEW_CHARS
        else passage.text[:PASSAGE_PREVIEW_CHARS].rsplit(" ", 1)[0] + " …"
    )
    meta = _meta(article.title, article.source, article.published, article.url) if article else ""
    body = f'<p class="nq-context">{_paragraphs(text)}</p>'
    return f'<li class="nq-source nq-near"><div class="nq-body">{meta}{body}</div></li>'


def _markers(citations: Iterable[Citation], turn: int) -> str:
    return "".join(f'<a class="nq-cite" href="#{_anchor(turn, c.n)}">[{c.n}]</a>' for c in citations)


def render_answer(answer: Answer, articles: Mapping[str, Article], turn: int = 1) -> str:
    """The chat message for ``answer``: the answer with citation markers, then the sources panel.

    ``turn`` numbers the answer within the conversation so that anchors stay unique.
    An abstention says so and lists the closest passages instead of sources.
    """
    parts = ['<div class="nq-answer">']
    if answer.standalone_question and answer.standalone_question != " ".join(answer.question.split()):
        parts.append(f'<div class="nq-rewrite">Searched for: “{_e(answer.standalone_question)}”</div>')
    if answer.abstained:
        parts.append(f'<div class="nq-abstain"><strong>Not in the articles.</strong> {_e(answer.answer)}</div>')
        near = [render_passage(p, articles.get(p.article_id)) for p in answer.passages]
        if near:
            parts.append('<div class="nq-sources-head">Closest we found</div>')
            parts.append(f'<ol class="nq-sources">{"".join(near)}</ol>')
    else:
        text = " ".join(answer.answer.split())
        parts.append(f'<p class="nq-text">{_e(text)} {_markers(answer.quotes, turn)}</p>')
        count = len(answer.quotes)
        parts.append(f'<div class="nq-sources-head">Sources <span class="nq-count">{count}</span></div>')
        sources = "".join(
            render_card(group, articles.get(group[0].quote.article_id), turn)
            for group in group_by_article(answer.quotes)
        )
        parts.append(f'<ol class="nq-sources">{sources}</ol>')
    parts.append("</div>")
    return "".join(parts)


def render_error(message: str) -> str:
    """An error as a chat message (the message is escaped; it may quote user input)."""
    return f'<div class="nq-error"><strong>Could not answer.</strong> {_e(message)}</div>'


def render_pending() -> str:
    """Shown in the chat while an answer is computed."""
    return '<div class="nq-pending"><span class="nq-spinner"></span>Searching the articles…</div>'


def render_ingest(
    lines: Iterable[tuple[str, str, int, str]], added: int, unchanged: int, duplicates: int, total: int
) -> str:
    """The ingest report: one row per file (name, status, articles, reason), then the index totals."""
    rows = "".join(
        f'<tr class="nq-{_e(status)}"><td>{_e(name)}</td><td>{_e(status)}</td>'
        f"<td>{count}</td><td>{_e(reason)}</td></tr>"
        for name, status, count, reason in lines
    )
    table = (
        f'<table class="nq-report"><tr><th>File</th><th>Status</th><th>Articles</th><th>Reason</th></tr>{rows}</table>'
    )
    summary = (
        f'<p class="nq-report-sum">{added} article{"s" if added != 1 else ""} added, {unchanged} already indexed, '
        f"{duplicates} duplicate{'s' if duplicates != 1 else ''}; the index now holds {total}.</p>"
    )
    return table + summary
