"""The chat's markup is a pure function of the Answer and the articles: escaping, marks, citations."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from index.records import make_article
from qa.records import Answer, Citation, Passage, Quote
from ui.examples import example_questions, question_from_title
from ui.render import context_window, highlight, render_answer, render_error, render_source, safe_url

TEXT = (
    "Intro line.\n\nFirst sentence here. Second one follows. The minister said <script>alert(1)</script> & more. "
    "Fourth sentence. Fifth sentence. Sixth and last."
)
QUOTE = "The minister said <script>alert(1)</script> & more."


def _article(url: str = "https://example.org/a?x=1&y=2", title: str = "Title <b>bold</b>"):  # type: ignore[no-untyped-def]
    return make_article(TEXT, title=title, source="Outlet & Co", url=url, published=date(2026, 3, 2))


def _citation(article, n: int = 1) -> Citation:  # type: ignore[no-untyped-def]
    start = article.text.index(QUOTE)
    quote = Quote(article.id, start, start + len(QUOTE), QUOTE)
    return Citation(n, quote, article.title, article.source, article.url, article.published)


def _answer(article, **kw) -> Answer:  # type: ignore[no-untyped-def]
    fields = dict(question="What did the minister say?", answer=QUOTE, quotes=(_citation(article),), passages=())
    fields.update(kw)
    return Answer(**fields)  # type: ignore[arg-type]


def test_untrusted_text_is_escaped_everywhere() -> None:
    article = _article()
    html = render_answer(_answer(article), {article.id: article})
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Title &lt;b&gt;bold&lt;/b&gt;" in html
    assert "Outlet &amp; Co" in html
    assert 'href="https://example.org/a?x=1&amp;y=2"' in html


def test_mark_wraps_exactly_the_quoted_characters() -> None:
    article = _article()
    html = render_source(_citation(article), article, turn=1)
    marked = re.findall(r"<mark>(.*?)</mark>", html)
    assert marked and all(unescape(m) == QUOTE for m in marked)


def test_highlight_offsets_are_into_the_raw_text() -> None:
    text = "a < b. Then & quote. End."
    start = text.index("Then")
    end = start + len("Then & quote.")
    assert highlight(text, start, end) == "a &lt; b. <mark>Then &amp; quote.</mark> End."


def test_context_is_a_few_sentences_either_side_with_the_whole_article_expandable() -> None:
    article = _article()
    html = render_source(_citation(article), article, turn=1)
    context = html.split('<details class="nq-full">')[0]
    assert "Second one follows." in context and "Fifth sentence." in context
    assert "Sixth and last." not in context and "Intro line." not in context
    assert "<details" in html and "Sixth and last." in html.split("<details")[1]
    lo, hi = context_window(TEXT, TEXT.index(QUOTE), TEXT.index(QUOTE) + len(QUOTE), sentences=0)
    assert TEXT[lo:hi].strip() == QUOTE


def test_short_article_has_no_expander() -> None:
    article = make_article("Only sentence.", title="T")
    quote = Quote(article.id, 0, len("Only sentence."), "Only sentence.")
    html = render_source(Citation(1, quote, "T", "", "", None), article, turn=1)
    assert "<details" not in html and "<mark>Only sentence.</mark>" in html


def test_citation_markers_link_to_their_sources() -> None:
    article = _article()
    second = _citation(article, n=2)
    html = render_answer(_answer(article, quotes=(_citation(article), second)), {article.id: article}, turn=3)
    for n in (1, 2):
        assert f'<a class="nq-cite" href="#nq-3-src-{n}">[{n}]</a>' in html
        assert f'id="nq-3-src-{n}"' in html
    assert html.index('class="nq-cite"') < html.index('class="nq-sources"')  # the answer comes first


def test_title_links_only_to_http_urls() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("file:///etc/passwd") is None
    assert safe_url("/relative") is None
    assert safe_url("https://example.org/x") == "https://example.org/x"
    article = _article(url="javascript:alert(1)")
    html = render_answer(_answer(article), {article.id: article})
    assert "javascript:" not in html and "<a href" not in html.split("nq-title")[1].split("</div>")[0]


def test_abstention_says_so_and_lists_the_closest_passages() -> None:
    article = _article()
    passage = Passage(1, f"{article.id}:0", article.id, 0, 40, TEXT[:40], 0.2)
    answer = Answer(
        question="Who won the cup?",
        answer="The articles don't say. No indexed article mentions “cup”.",
        quotes=(),
        passages=(passage,),
        abstained=True,
        reason="below threshold",
    )
    html = render_answer(answer, {article.id: article})
    assert "Not in the articles." in html and "Closest we found" in html
    assert "Intro line." in html and "Title &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<mark>" not in html and "nq-cite" not in html
    assert "“cup”" in html


def test_rewritten_question_is_shown_only_when_it_differs() -> None:
    article = _article()
    same = render_answer(_answer(article, standalone_question="What did the minister say?"), {article.id: article})
    assert "Searched for" not in same
    other = _answer(article, question="What did he say?", standalone_question="What did <Lavrov> say?")
    html = render_answer(other, {article.id: article})
    assert "Searched for: “What did &lt;Lavrov&gt; say?”" in html


def test_quote_not_found_in_article_is_shown_without_context() -> None:
    article = _article()
    html = render_source(_citation(article), make_article("Different text.", title="x"), turn=1)
    assert re.findall(r"<mark>(.*?)</mark>", html) == [
        "The minister said &lt;script&gt;alert(1)&lt;/script&gt; &amp; more."
    ]


def test_markup_has_no_newlines_for_markdown_to_act_on() -> None:
    article = _article()
    assert "\n" not in render_answer(_answer(article), {article.id: article})


def test_error_message_is_escaped() -> None:
    assert (
        render_error("bad <input>")
        == '<div class="nq-error"><strong>Could not answer.</strong> bad &lt;input&gt;</div>'
    )


def test_example_questions_from_titles() -> None:
    seed = "Lavrov affirms Russia support for urgent ceasefire in Gaza"
    assert question_from_title(seed, "The ministry said that Lavrov met them.") == "What did Lavrov call for?"
    assert question_from_title("City council approves bike lanes") == "What did the city council approve?"
    assert question_from_title("Why prices rise") is None
    articles = [make_article("x", title="Museum recovers stolen painting", published=date(2025, 1, 1)),
                make_article("y", title="Harbor town opens new ferry line", published=date(2026, 1, 1))]  # fmt: skip
    assert example_questions(articles) == ["What did the harbor town open?", "What did the museum recover?"]
    assert example_questions(articles, limit=1) == ["What did the harbor town open?"]


def test_header_counts_articles() -> None:
    from ui.web import _header

    assert "1 article indexed" in _header(1)
    assert "6 articles indexed" in _header(6)
