"""Reloading while writers swap generations and clients ask (issue 16 item 13): a reload loads
one generation whole, never fails because a writer collected the one it was reading, and every
answer comes from one generation."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import qa.assistant
from index.build import add_articles
from index.embed import HashingEmbedder
from index.records import Article, make_article
from index.store.generations import current_generation, load_index
from index.store.keyword import KeywordIndex
from qa import Assistant
from tests.conftest import small_index


def _article(n: int) -> Article:
    return make_article(
        f"Mayor Ada Quist{n} opened bridge number {n} in Lakeport{n} on Monday. The bridge cost {n} million.",
        title=f"Bridge {n} opens",
        source="Test Wire",
    )


def test_a_reload_racing_two_writes_loads_the_newest_generation_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reload reads generation 2's vectors; two writes then make generation 4 live and collect
    generation 2 before its keyword index is read. The old reload failed there (CorruptIndexError:
    gen-000002/manifest.json missing); it now starts again on the live generation."""
    embedder = HashingEmbedder(dim=64)
    root = small_index(tmp_path / "index", [_article(1)], embedder)
    assistant = Assistant(root, embedder)
    add_articles(root, [_article(2)], embedder=embedder)
    real = qa.assistant.load_keyword_index
    raced: list[str] = []

    def racing(index_dir: Path, generation: str, texts: list[str] | None = None) -> KeywordIndex:
        if not raced:  # the first keyword load of the reload: two writers finish meanwhile
            raced.append(generation)
            add_articles(root, [_article(3)], embedder=embedder)
            add_articles(root, [_article(4)], embedder=embedder)
            assert not (root / generation).exists(), "the generation being read was collected"
        return real(index_dir, generation, texts)

    monkeypatch.setattr(qa.assistant, "load_keyword_index", racing)
    assert assistant.reload()
    live = current_generation(root)
    assert raced == ["gen-000002"] and live is not None and live.name == "gen-000004"
    assert assistant.data.generation == "gen-000004" and len(assistant.data.articles) == 4
    # the keyword index, the retriever and the answerer are the same generation's
    scores = assistant.keyword.scores("quist4 lakeport4")
    assert len(scores) == len(assistant.data.chunks)
    assert "Lakeport4" in assistant.data.chunks[int(scores.argmax())].text
    answer = assistant.ask("Who opened bridge number 4 in Lakeport4?")
    assert answer.quotes and all("Lakeport4" in c.quote.text for c in answer.quotes[:1])


def test_concurrent_reloads_and_questions_see_one_generation_each(tmp_path: Path) -> None:
    """Writers add articles while threads reload and ask: no error, and every answer's quotes and
    passages fit the texts of exactly one generation."""
    embedder = HashingEmbedder(dim=64)
    root = small_index(tmp_path / "index", [_article(0)], embedder)
    assistant = Assistant(root, embedder)
    texts: dict[str, dict[str, str]] = {}
    texts_lock = threading.Lock()

    def snapshot() -> None:
        data = load_index(root)
        with texts_lock:
            texts[data.generation] = {a.id: a.text for a in data.articles.values()}

    snapshot()
    errors: list[str] = []
    answers: list[qa.Answer] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for n in range(1, 9):
                add_articles(root, [_article(n)], embedder=embedder)
                snapshot()
        except Exception as exc:  # recorded: it fails the test
            errors.append(f"write: {exc!r}")
        finally:
            done.set()

    def reloader() -> None:
        while not done.is_set():
            try:
                assistant.reload()
            except Exception as exc:  # recorded: it fails the test
                errors.append(f"reload: {exc!r}")

    def client(k: int) -> None:
        n = 0
        while not done.is_set() or n < 3:
            try:
                answers.append(assistant.ask(f"Who opened bridge number {n % 9} in Lakeport{n % 9}?"))
            except Exception as exc:  # recorded: it fails the test
                errors.append(f"ask: {exc!r}")
            n += 1

    threads = [threading.Thread(target=writer), *(threading.Thread(target=reloader) for _ in range(2))]
    threads += [threading.Thread(target=client, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:5]
    assert answers and any(a.quotes for a in answers)
    for answer in answers:
        spans = [(c.quote.article_id, c.quote.start, c.quote.end, c.quote.text) for c in answer.quotes]
        spans += [(p.article_id, p.start, p.end, p.text) for p in answer.passages]
        fits = [g for g, t in texts.items() if all(a in t and t[a][s:e] == x for a, s, e, x in spans)]
        assert fits, answer.question
