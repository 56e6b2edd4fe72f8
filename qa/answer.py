"""Pick the answer from retrieved passages: question + Passages -> Draft (answer text, quotes, score).

Extractive: every candidate sentence of the top passages is scored against the question
with its stored sentence vector (computed at index time) and the share of the question's
keyword weight (BM25 idf) it contains, most of it from the sentence that asks; the best
``settings.rescore`` sentences are then embedded again, each alone, and re-ranked. The best
sentences become the quotes; the best one (or a short answer cut from the best ones) is the
answer. When the best score is too low, or the question's most telling words appear in no
article, the draft abstains.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from index.store.generations import IndexData
from index.store.keyword import KeywordIndex
from index.store.tables import chunk_row_of
from qa.checks import Decline, decline
from qa.extract import Evidence, Voting, extract
from qa.kinds import NAME_KINDS, RULES, has_answer_of_type
from qa.ner import EntityTagger
from qa.question import Question
from qa.reader import Reader, SentenceIn, from_candidates
from qa.reader.records import is_headline
from qa.records import Passage, Quote
from qa.settings import QASettings
from qa.spans import Entity, words_of
from qa.words import SPEECH_VERB


def _speaks(sentence: str, speakers: tuple[str, ...]) -> bool:
    """A speaker is named before the speech verb or the opening quote of ``sentence``."""
    cuts = [m.start() for m in SPEECH_VERB.finditer(sentence)] + [sentence.rfind("“"), sentence.rfind('"')]
    lead = sentence[: max(cuts, default=-1)].lower()
    return any(s.lower() in lead for s in speakers)


def _says(sentence: str, short: str, fold: bool = False) -> bool:
    """``short`` occurs in ``sentence`` as whole words: "Iran" is not in "Iranian officials"."""
    return re.search(rf"(?<!\w){re.escape(short)}(?!\w)", sentence, re.I if fold else 0) is not None


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with its scores."""

    article_id: str
    start: int
    end: int
    score: float
    dense: float
    keyword: float
    passage_rank: int


@dataclass(frozen=True)
class Draft:
    """The answer step's result, before citations are verified and numbered."""

    answer: str
    quotes: tuple[Quote, ...]
    score: float
    abstained: bool
    reason: str
    missing_terms: tuple[str, ...] = ()
    declined: Decline | None = None  # a check that needs no model found the articles cannot answer


class ExtractiveAnswerer:
    """Scores candidate sentences with the vectors stored in the index; ``embed`` (the query
    embedder) re-embeds the best few, and ``tagger`` checks the names in the best sentences and
    in short answers (None, as the assistant passes when ``settings.entities`` is off: no check)."""

    def __init__(
        self,
        data: IndexData,
        keyword: KeywordIndex,
        settings: QASettings,
        tagger: EntityTagger | None = None,
        embed: Callable[[str], np.ndarray] | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.data = data
        self.tagger = tagger
        self.reader = reader  # the fitted reader (settings.reader "trained"); None: the rules decide
        self.embed = embed  # the query embedder, for re-embedding the best sentences (settings.rescore)
        self.keyword = keyword
        self.settings = settings
        self._row = chunk_row_of(data.chunks)  # chunk id -> row
        # contiguous: searchsorted on a column view copies it (25 million rows at 1M articles) each call
        self._sentence_chunk = (
            np.ascontiguousarray(data.sentences[:, 0]) if len(data.sentences) else np.zeros(0, np.int64)
        )

    def candidates(self, question: Question, vector: np.ndarray, passages: list[Passage]) -> list[Candidate]:
        """All sentences of the first ``answer_passages`` passages, best first.

        Time words ("this week", "in March") count as dates in retrieval, not as words here.
        """
        s = self.settings
        idf = {t: question.weights.get(t, 0.0) for t in question.terms}
        total = sum(idf.values()) or 1.0
        # "The mayor was arrested on Thursday. Who is her deputy?": the sentence that asks
        # names what the answer is about; the others set the scene, which many sentences repeat
        asked_idf = {t: w for t, w in idf.items() if t in question.asked_terms} or idf
        asked_total = sum(asked_idf.values()) or 1.0
        kind = question.kind
        seen: set[tuple[str, int]] = set()
        found: list[Candidate] = []
        for passage in passages[: s.answer_passages]:
            row = self._row(passage.chunk_id)
            key = self._sentence_chunk.dtype.type(row)  # a Python int would cast the whole column, a call
            first = int(np.searchsorted(self._sentence_chunk, key, "left"))
            last = int(np.searchsorted(self._sentence_chunk, key, "right"))
            if last <= first:
                continue
            dense = self.data.sentence_vectors[first:last] @ vector
            article = self.data.articles[passage.article_id]
            text = article.text
            for offset, (_, start, end) in enumerate(self.data.sentences[first:last].tolist()):
                if (passage.article_id, start) in seen:
                    continue
                seen.add((passage.article_id, start))
                sentence = text[start:end]
                words = set(self.keyword.terms(sentence))
                if not words - idf.keys():
                    continue  # says nothing the question doesn't (a headline echoing it): no answer here
                share = sum(w for t, w in idf.items() if t in words) / total
                asking = sum(w for t, w in asked_idf.items() if t in words) / asked_total
                keyword = (1 - s.asked_share) * share + s.asked_share * asking
                d = float(dense[offset])
                score = s.sentence_dense_share * d + (1 - s.sentence_dense_share) * keyword
                score += s.passage_bonus / passage.rank
                if kind != "other" and has_answer_of_type(kind, sentence, question.words, question.letters):
                    score += s.type_bonus
                if question.speakers and _speaks(sentence, question.speakers):
                    score += s.speaker_bonus
                if is_headline(article, start, end):
                    score -= s.title_penalty
                found.append(Candidate(passage.article_id, start, end, score, d, keyword, passage.rank))
        found.sort(key=lambda c: (-c.score, c.passage_rank, c.start))
        return self._typecheck(question, self._rescore(found, vector))

    def _typecheck(self, question: Question, found: list[Candidate]) -> list[Candidate]:
        """The best ``settings.entity_checked`` sentences, checked by the named-entity model: one that
        names something of the kind asked for (a PERSON for "which pop star"), other than the
        question's own names, moves up. The rule check in ``candidates`` only sees capital letters,
        which nearly every sentence has. Measured on both dev sets (docs/eval/ablation)."""
        allowed = question.labels
        checked_count = self.settings.entity_checked
        if self.tagger is None or question.kind not in NAME_KINDS or not checked_count or not allowed:
            return found  # no model, no name asked for, or no check: nothing moves
        k = min(checked_count, len(found))
        texts = [self._text(c) for c in found[:k]]
        tags = self.tagger.entities(texts)
        if tags is None:
            return found

        def names_one(text: str, entities: list[Entity]) -> bool:
            return any(label in allowed and not words_of(text[a:b]) <= question.words for a, b, label in entities)

        bonus = self.settings.entity_bonus
        checked = [
            replace(c, score=c.score + bonus) if names_one(text, entities) else c
            for c, text, entities in zip(found[:k], texts, tags, strict=True)
        ]
        typed = checked + found[k:]
        typed.sort(key=lambda c: (-c.score, c.passage_rank, c.start))
        return typed

    def _rescore(self, found: list[Candidate], vector: np.ndarray) -> list[Candidate]:
        """The best ``settings.rescore`` sentences, embedded alone, like the question.

        A sentence vector pooled from its chunk's tokens (stored at index time) carries its
        neighbours' context; the sentence embedded on its own matches the question more
        sharply. Measured on both dev sets (docs/eval/ablation): more questions have the
        answer in their first sentences, at ~10 ms a sentence on one core.
        """
        k = min(self.settings.rescore, len(found))
        if self.embed is None or k == 0:
            return found
        move = self.settings.sentence_dense_share * self.settings.rescore_weight
        embed = self.embed
        top = [replace(c, score=c.score + move * (float(embed(self._text(c)) @ vector) - c.dense)) for c in found[:k]]
        rescored = top + found[k:]
        rescored.sort(key=lambda c: (-c.score, c.passage_rank, c.start))
        return rescored

    def missing_terms(self, question: Question) -> tuple[str, ...]:
        """Question words (as typed) that no indexed chunk contains, for the abstention message."""
        missing: list[str] = []
        for word in question.typed:
            terms = self.keyword.terms(word)
            if terms and not self.keyword.known(terms):
                missing.append(word)
        return tuple(missing)

    def _stem(self, word: str) -> str:
        terms = self.keyword.terms(word)
        return terms[0] if terms else ""  # a stop word

    def _text(self, c: Candidate) -> str:
        return self.data.articles[c.article_id].text[c.start : c.end]

    def _voting(self) -> Voting:
        s = self.settings
        weights = (s.vote_temperature, s.min_vote_weight, s.year_weight, s.counted_bonus, s.title_bonus)
        return Voting(*weights, s.untagged_weight)

    def draft(
        self, question: Question, vector: np.ndarray, passages: list[Passage], until: date | None = None
    ) -> Draft:
        """The answer: the best sentence (or a span cut from it), with up to ``max_quotes`` quotes.

        Further quotes are sentences that say the same short answer (listed first, newest
        article first) or that score nearly as well as the best.
        """
        missing = self.missing_terms(question)
        if self.settings.checks:
            seen = dict.fromkeys(p.article_id for p in passages[: self.settings.answer_passages])
            articles = [self.data.articles[a] for a in seen]
            found = decline(question, articles, self.settings.window_slack_days, self.settings.recent_days, until)
            if found is not None:
                return Draft("", (), 0.0, True, found.reason, missing, found)
        candidates = self.candidates(question, vector, passages)
        if not candidates:
            return Draft("", (), 0.0, True, "no passage was retrieved", missing)
        best = candidates[0]
        short: str | None = None
        voters = candidates[: self.settings.evidence_sentences]
        if self.settings.short_answers:
            evidence = [Evidence(self._text(c), c.score) for c in voters]
            short = extract(question, evidence, self._stem, self.tagger, self._voting())
        if self.reader is not None and self.settings.reader == "trained":
            return self._read(question, candidates, short, missing, self.reader)
        if short:
            # the first quote must be a sentence that says it
            best = next((c for c in voters if _says(self._text(c), short)), best)
        quotes = self._quotes(candidates, best, short)
        quote_records = tuple(Quote(c.article_id, c.start, c.end, self._text(c)) for c in quotes)
        needs = RULES[question.kind].needs
        if self.settings.short_answers and short is None and needs:
            reason = f"the question asks for a {needs}, and no passage found gives one"
            return Draft("", quote_records, candidates[0].score, True, reason, missing)
        if candidates[0].score < self.settings.abstain_below:
            top, threshold = candidates[0].score, self.settings.abstain_below
            reason = f"best sentence score {top:.2f} is under the threshold {threshold:.2f}"
            return Draft("", quote_records, candidates[0].score, True, reason, missing)
        return Draft(short or self._text(best), quote_records, candidates[0].score, False, "", missing)

    def _quotes(self, candidates: list[Candidate], best: Candidate, short: str | None) -> list[Candidate]:
        """Up to ``max_quotes``: the best, then sentences that say the short answer too or score
        nearly as well as the best; those that say the short answer first, newest article first."""
        quotes: list[Candidate] = [best]
        for other in candidates:
            if len(quotes) >= self.settings.max_quotes:
                break
            supports = (short is not None and _says(self._text(other), short, fold=True)) or (
                other.score >= self.settings.quote_ratio * candidates[0].score
            )
            if supports and all(
                other.article_id != q.article_id or other.end <= q.start or other.start >= q.end for q in quotes
            ):
                quotes.append(other)
        if short:

            def order(q: Candidate) -> tuple[bool, int]:
                day = self.data.articles[q.article_id].published
                return not _says(self._text(q), short, fold=True), -(day.toordinal() if day else 0)

            quotes.sort(key=order)
        return quotes

    def _read(
        self,
        question: Question,
        candidates: list[Candidate],
        short: str | None,
        missing: tuple[str, ...],
        reader: Reader,
    ) -> Draft:
        """The fitted reader decides, the rules' short answer (``short``) among its inputs: its
        sentence order gives the quotes, its span the short answer (the best sentence when no span
        is confident), its probability the abstention."""
        sentences = from_candidates(candidates, self.data.articles, self.tagger)
        reading = reader.read(question, sentences, short, self.embed)
        first = sentences[reading.span.sentence] if reading.span else sentences[reading.order[0]]
        short = reading.span.text if reading.span else None  # the reader's
        best_prob = float(reading.probs[reading.order[0]])
        chosen: list[SentenceIn] = [first]
        # first the sentences that say the short answer or nearly match the best, then the next most
        # probable: the reader's probabilities are peaked, and a second reading gives the user a
        # second chance (realtimeqa 2026: quotes held the answer 0.737 with the fill, 0.695 without)
        for fill in (False, True):
            for i in reading.order:
                s = sentences[i]
                if len(chosen) >= self.settings.max_quotes:
                    break
                says = short is not None and _says(s.text, short, fold=True)
                if (fill or says or reading.probs[i] >= self.settings.quote_ratio * best_prob) and all(
                    s.article_id != q.article_id or s.end <= q.start or s.start >= q.end for q in chosen
                ):
                    chosen.append(s)
        quotes = tuple(Quote(s.article_id, s.start, s.end, s.text) for s in chosen)
        if reading.abstain:
            reason = (
                f"the reader's probability that a sentence answers, {reading.answerable:.2f}, "
                f"is under its threshold {reader.answerable_threshold:.2f}"
            )
            return Draft("", quotes, reading.answerable, True, reason, missing)
        return Draft(short or first.text, quotes, reading.answerable, False, "", missing)
