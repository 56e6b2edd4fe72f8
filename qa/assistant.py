"""The one engine every door uses: load_assistant(index_dir) -> Assistant; ask(question) -> Answer."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from index.embed import DEFAULT_MODEL, Embedder, make_embedder
from index.embed.base import check_embedder_build
from index.errors import CorruptIndexError, IndexMismatchError, SettingsError
from index.store.generations import IndexData, current_generation, load_index, load_keyword_index
from index.store.keyword import KeywordIndex
from index.store.tables import chunk_texts
from index.threads import limit_query_threads
from qa.answer import Draft, ExtractiveAnswerer
from qa.cite import verify_quotes
from qa.errors import EmptyQuestionError, QuestionTooLongError
from qa.ner import EntityTagger, shared_tagger
from qa.question import Question
from qa.reader import Reader
from qa.records import Answer, Citation, Filters, Passage, Turn
from qa.retrieve import Query, Retriever
from qa.settings import QASettings

MAX_QUESTION_CHARS = 2000
LOAD_ATTEMPTS = 3  # a reload racing writers that collect the generation it reads starts again on the live one


@dataclass(frozen=True)
class _State:
    """One loaded index generation and the parts built on it; swapped whole on reload."""

    data: IndexData
    keyword: KeywordIndex
    retriever: Retriever
    answerer: ExtractiveAnswerer


def resolve_today(today: date | str | None = None) -> date | None:
    """The day a question is asked, the one rule every door uses (CLI, API, browser, ``/answer``):
    a given date (a ``datetime`` gives its date; a string is read as ISO ``YYYY-MM-DD``); None:
    the local date (``date.today()``); ``"undated"``: no day at all, so no date preference (the
    eval's questions that carry no date, whose answers must not depend on the day the eval runs).
    Anything else is a ``TypeError``; a string that is not a date, a ``SettingsError``.

    Example:
        >>> resolve_today(date(2024, 3, 1))
        datetime.date(2024, 3, 1)
        >>> resolve_today() == date.today()
        True
        >>> resolve_today("undated") is None
        True
        >>> resolve_today("2026-01-08")
        datetime.date(2026, 1, 8)
    """
    if today is None:
        return date.today()
    if today == "undated":
        return None
    if isinstance(today, datetime):  # before date: a datetime is a date too, but compares only with datetimes
        return today.date()
    if isinstance(today, date):
        return today
    if isinstance(today, str):
        try:
            return date.fromisoformat(today.strip())
        except ValueError as exc:
            raise SettingsError(f'today: {today!r} is not a date; use YYYY-MM-DD or "undated"') from exc
    raise TypeError(f"today must be a date, a datetime, an ISO date string or None, not {type(today).__name__}")


# what no question means: terminal escape sequences (CSI such as colours, OSC such as a window
# title), then single control characters (C0, DEL, C1) and lone surrogates (bytes that were not
# UTF-8, as Python's argv keeps them, or a "\ud800" sent in JSON); each becomes a space
_UNPRINTABLE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x1f\x7f-\x9f\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` with escape sequences, control characters and lone surrogates replaced by spaces.

    Example:
        >>> printable("How many\\x01\\x07 llamas?\\udcff")
        'How many   llamas? '
    """
    return _UNPRINTABLE.sub(" ", text)


def _clean_question(question: str) -> str:
    if not isinstance(question, str):
        raise TypeError(f"the question must be a str (text), not {type(question).__name__}")
    cleaned = " ".join(printable(question).split())
    if not cleaned:
        raise EmptyQuestionError("the question is empty: type a question about the articles")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(f"the question is {len(cleaned)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return cleaned


class Assistant:
    """Answers questions about one index with verified quotes. Thread-safe for ``ask``.

    Build it with :func:`load_assistant`; tests may pass parts directly.
    """

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        settings: QASettings | None = None,
        data: IndexData | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.settings = settings or QASettings()
        self._lock = threading.Lock()
        self._tagger = shared_tagger() if self.settings.entities else None  # loads on the first name question
        # the fitted reader shipped in qa/models/reader (checked by sha256), unless the rules decide
        self._reader = reader or (Reader.load() if self.settings.reader == "trained" else None)
        self._state = self._load(data)

    def _load(self, given: IndexData | None = None) -> _State:
        """The live generation (or ``given``) with its keyword index, retriever and answerer, all of
        one generation. A writer may make two generations live while this reads, and collect the
        one being read (it keeps the live one and the one before): the load then starts again on
        the new live generation, as ``load_index`` does for its own files."""
        for attempt in range(1, LOAD_ATTEMPTS + 1):
            data = given or load_index(self.index_dir, expect_embedder=self.embedder.name)
            # loads the model now (not inside the first question's timing) and checks it fits the index
            if self.embedder.dim != data.dim:
                raise IndexMismatchError(
                    f"{self.index_dir}: index vectors have {data.dim} dimensions, embedder {self.embedder.name!r} "
                    f"gives {self.embedder.dim}; rebuild with: newsqa index --rebuild PATH... --index {self.index_dir}"
                )
            # an upgrade that re-made the int8 model would drift its query vectors from the index's
            check_embedder_build(self.index_dir, data.embedder_build, self.embedder)
            try:
                keyword = load_keyword_index(self.index_dir, data.generation, chunk_texts(data.chunks))
            except (CorruptIndexError, OSError):
                live = current_generation(self.index_dir)
                if given is not None or attempt == LOAD_ATTEMPTS or live is None or live.name == data.generation:
                    raise  # not a race with a writer: the generation itself is broken
                continue
            return _State(
                data,
                keyword,
                Retriever(data, keyword, self.settings),
                ExtractiveAnswerer(data, keyword, self.settings, self._tagger, self.embedder.embed_query, self._reader),
            )
        raise AssertionError("unreachable")

    @property
    def data(self) -> IndexData:
        """The index generation answering now."""
        return self._state.data

    @property
    def keyword(self) -> KeywordIndex:
        """The BM25 index of the generation answering now."""
        return self._state.keyword

    @property
    def retriever(self) -> Retriever:
        """The retrieval step of the generation answering now (``retrieve(Query) -> list[Passage]``)."""
        return self._state.retriever

    @property
    def answerer(self) -> ExtractiveAnswerer:
        """The answer step of the generation answering now (passages -> a draft answer with quotes)."""
        return self._state.answerer

    @property
    def tagger(self) -> EntityTagger | None:
        """The named-entity tagger that checks short answers; None when ``settings.entities`` is off."""
        return self._tagger

    def warm_up(self) -> None:
        """Load what the first questions would otherwise wait for: the embedding model (loaded
        with the assistant already) and the named-entity model (on the first "who" question)."""
        self.embedder.embed_query("warm up")
        if self._tagger is not None:
            self._tagger.entities(["Warm up in Paris."])

    def reload(self) -> bool:
        """Switch to the index's live generation if it changed; True when it did.

        One reload at a time (a lock); it builds the new generation's parts beside the old ones and
        swaps them in with one assignment, so a question sees the old generation or the new one
        whole, and questions already being answered finish on the one they started with."""
        with self._lock:
            live = current_generation(self.index_dir)
            if live is None or live.name == self._state.data.generation:
                return False
            self._state = self._load()
            return True

    def ask(self, question: str, today: date | str | None = None, filters: Filters | None = None) -> Answer:
        """Answer ``question`` from the articles, as asked on ``today`` (None: the local date;
        see :func:`resolve_today`).

        Example:
            >>> answer = assistant.ask("What did Lavrov call for?")  # doctest: +SKIP
            >>> answer.quotes[0].quote.text  # doctest: +SKIP
            'The Russian Foreign Ministry, ... support for an urgent ceasefire, ...'
        """
        return self._answer(_clean_question(question), question, resolve_today(today), filters)

    def chat(
        self,
        history: Sequence[Turn],
        question: str,
        today: date | str | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """Answer a follow-up: ``question`` is first rewritten into a standalone question
        from the earlier turns (``Answer.standalone_question`` shows the rewrite)."""
        from qa.conversation import standalone_question

        asked = _clean_question(question)
        standalone = _clean_question(standalone_question(history, asked))
        return self._answer(standalone, question, resolve_today(today), filters)

    def ask_many(
        self, questions: Sequence[str], today: date | str | None = None, filters: Filters | None = None
    ) -> list[Answer]:
        """``ask`` for each question, in order."""
        return [self.ask(q, today, filters) for q in questions]

    def _answer(self, standalone: str, asked: str, today: date | None, filters: Filters | None) -> Answer:
        state = self._state  # one generation for the whole answer, even if a reload happens meanwhile
        limit_query_threads(1)  # questions run side by side (the UI queue): one core each, no oversubscription
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        vector = self.embedder.embed_query(standalone)
        timings["embed"] = (time.perf_counter() - clock) * 1000
        clock = time.perf_counter()
        question = Question.parse(standalone, today, state.keyword)  # understood once; every step reads it
        query = Query(question, vector, filters or Filters())
        passages = state.retriever.retrieve(query, max(self.settings.passages, self.settings.answer_passages))
        timings["retrieve"] = (time.perf_counter() - clock) * 1000
        clock = time.perf_counter()
        draft = state.answerer.draft(question, vector, passages, query.filters.published_to)
        timings["answer"] = (time.perf_counter() - clock) * 1000
        clock = time.perf_counter()
        verified = verify_quotes(draft.quotes, state.data.articles)
        citations = tuple(
            Citation(
                n=n,
                quote=q,
                title=state.data.articles[q.article_id].title,
                source=state.data.articles[q.article_id].source,
                url=state.data.articles[q.article_id].url,
                published=state.data.articles[q.article_id].published,
            )
            for n, q in enumerate(verified, start=1)
        )
        timings["cite"] = (time.perf_counter() - clock) * 1000
        timings["total"] = sum(timings.values())
        shown: tuple[Passage, ...] = tuple(passages[: self.settings.passages])
        abstained = draft.abstained or not citations
        if abstained:
            return Answer(
                question=asked,
                answer=_abstention_text(draft, query),
                quotes=(),
                passages=shown,
                abstained=True,
                reason=draft.reason or "no quote could be verified",
                standalone_question=standalone,
                confidence=draft.score,
                timings_ms=timings,
            )
        return Answer(
            question=asked,
            answer=draft.answer,
            quotes=citations,
            passages=shown,
            abstained=False,
            standalone_question=standalone,
            confidence=draft.score,
            timings_ms=timings,
        )


def _abstention_text(draft: Draft, query: Query) -> str:
    """What the articles don't say, and what was searched."""
    f = query.filters
    declined = draft.declined
    if declined is not None and declined.missing:
        words = ", ".join(f"“{m}”" for m in declined.missing)
        return f"The articles don't say. None of the articles found for this question mentions {words}."
    if declined is not None:
        return f"The articles don't say. No article found for this question was published {declined.window}."
    missing = draft.missing_terms
    intent = query.question.dates
    start, end = f.published_from or intent.start, f.published_to or intent.end
    window = ""
    if start or end:
        window = f" published between {start or 'the earliest'} and {end or 'the latest'}"
    if f.sources:
        window += f" from {', '.join(f.sources)}"
    if missing:
        words = ", ".join(f"“{m}”" for m in missing)
        return f"The articles don't say. No indexed article{window} mentions {words}. The closest passages are below."
    return (
        f"The articles don't say. No article{window} has a sentence that answers this; the closest passages are below."
    )


def load_assistant(
    index_dir: Path | str | None = None,
    settings: QASettings | None = None,
    embedder: Embedder | None = None,
) -> Assistant:
    """The composition root: the real embedder named in the index's manifest, the real index.

    ``index_dir`` None means the bundled sample corpus, built on first use.
    """
    from index.store.generations import read_manifest

    builder: Embedder | None = None
    if index_dir is None:
        from qa.sample import ensure_sample_index

        builder = embedder or make_embedder(DEFAULT_MODEL)
        index_dir = ensure_sample_index(embedder=builder)
    root = Path(index_dir)
    if embedder is None:  # the one named by the index (a sample built by an older default, too)
        _, manifest = read_manifest(root)
        name = manifest["embedder"]["name"]
        if not isinstance(name, str):
            raise SettingsError(f"{root}: the manifest names no embedder")
        # the model that just built the sample stays loaded
        embedder = builder if builder is not None and builder.name == name else make_embedder(name)
    return Assistant(root, embedder, settings)
