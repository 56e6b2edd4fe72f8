"""The answer stays in view (issue 16): quotes from one article share one card; the page scrolls to the answer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from index.embed import HashingEmbedder
from index.records import make_article
from qa.assistant import Assistant
from qa.records import Answer, Citation, Quote
from qa.settings import QASettings
from ui.render import render_answer

TEXT = (
    "The mayor opened the ferry line on Monday. She said it would carry 400 passengers a day. "
    "Tickets cost $12. The first boat left at seven. Islanders cheered on the pier. A band played."
)


def _citation(article, n: int, sentence: str) -> Citation:  # type: ignore[no-untyped-def]
    start = article.text.index(sentence)
    quote = Quote(article.id, start, start + len(sentence), sentence)
    return Citation(n, quote, article.title, article.source, article.url, article.published)


def test_quotes_from_one_article_share_one_card() -> None:
    ferry = make_article(TEXT, title="Ferry line opens", source="Coast Courier", published=date(2026, 3, 2))
    other = make_article("Farmers lost half of the harvest this year.", title="Drought", source="Farm Weekly")
    quotes = (
        _citation(ferry, 1, "Tickets cost $12."),
        _citation(other, 2, "Farmers lost half of the harvest this year."),
        _citation(ferry, 3, "The mayor opened the ferry line on Monday."),
        _citation(ferry, 4, "A band played."),
    )
    answer = Answer(question="q", answer="Tickets cost $12.", quotes=quotes, passages=())
    html = render_answer(answer, {ferry.id: ferry, other.id: other}, turn=2)
    assert html.count('<li class="nq-source') == 2  # one card per article
    assert html.count("Ferry line opens") == 1 and html.count("Coast Courier") == 1
    for n in (1, 2, 3, 4):
        assert f'href="#nq-2-src-{n}"' in html and f'id="nq-2-src-{n}"' in html  # every marker has its target
    card = html[html.index("Ferry line opens") :]
    card = card[: card.index("</li>")]
    for sentence in ("Tickets cost $12.", "The mayor opened the ferry line on Monday.", "A band played."):
        assert f"<mark>{sentence}</mark>" in card
    assert html.index("Ferry line opens") < html.index("Drought")  # cards in the order of their first quote


def test_after_each_answer_the_page_scrolls_to_its_start(tiny_index: Path, embedder: HashingEmbedder) -> None:
    from ui.web import build_app

    demo = build_app(Assistant(tiny_index, embedder, QASettings(reader="rules")))
    scripts = [str(f.js) for f in demo.fns.values() if getattr(f, "js", None)]
    # Enter, the Ask button and an example question each end by scrolling to the newest answer's start
    assert sum("scrollIntoView({block: 'start'" in js and ".nq-answer" in js for js in scripts) == 3
