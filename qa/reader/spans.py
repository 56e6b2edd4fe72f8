"""Candidate short answers inside the best sentences, and their features: sentences -> ``SpanCandidate``s.

Candidates are spaCy's entities, capitalised names, numbers and dates found by pattern, and
runs of content words (a common-noun answer: "heat waves"); each is scored by the span
model (qa/reader/model.py) from the features in ``SPAN_FEATURES``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.reader.question import KINDS, STOP_WORDS, Asked, plain, words
from qa.reader.records import SentenceIn

Embed = Callable[[str], np.ndarray]  # text -> its normalised vector (the query embedder)

SPAN_SENTENCES = 5  # spans are cut from this many of the best sentences
VOTE_SENTENCES = 5  # and voted for by this many (15 held 2026 answers in 0.49 of best spans, not 0.51)
MAX_RUN_WORDS = 6
_GROUPS: dict[str, str] = {
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "ORG": "org",
    "NORP": "org",
    "WORK_OF_ART": "work",
    "PRODUCT": "work",
    "EVENT": "work",
    "LAW": "work",
    "LANGUAGE": "work",
    "DATE": "date",
    "TIME": "date",
    "CARDINAL": "number",
    "MONEY": "number",
    "PERCENT": "number",
    "QUANTITY": "number",
    "ORDINAL": "number",
}
GROUPS = ("person", "place", "org", "work", "date", "number", "name", "run", "rules")
_NAME = re.compile(r"[A-Z][\w'’&.-]*(?:\s+(?:(?:of|de|the|for|and|&)\s+)?[A-Z][\w'’&.-]*)*")
_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s*(?:%|percent|million|billion|trillion|thousand))?"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"dozens?|hundreds|thousands|millions)\b(?:\s+(?:million|billion|thousand|hundred))?",
    re.I,
)
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = re.compile(
    rf"\b{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?|\b\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\b(?:19|20)\d\d\b"
)
_TOKEN = re.compile(r"[\w'’-]+")
SPAN_FEATURES: tuple[str, ...] = (
    "sentence_prob",
    "sentence_log_odds",
    "vote",  # summed probability of the VOTE_SENTENCES best sentences that say the span
    "vote_share",  # of all their probability
    "sentences_saying",
    "in_best_sentence",
    "asked_share",  # of the span's words, the share that are the question's
    "all_asked",
    "log_distance",  # tokens to the nearest question word in its sentence
    "no_question_word",
    "next_asked",  # the word after the span is the question's ("twelve [miles]", "[Port] Ellis")
    "prev_asked",
    "log_words",
    "long",
    "capital_share",
    "opens_sentence",
    "quoted",
    "is_rules_short",  # the span is the rules' short answer (case and punctuation aside)
    "holds_rules_short",  # it holds it as whole words, or lies inside it
    "wanted",  # an entity label the question wants
    "is_entity",
    "type_sim",  # cosine of the span with what a "which" question asks for ("which drug": Marinol 0.36)
    "type_gap",  # ... minus the best's among the spans not made of the question's words (0 without a type)
    *(f"group_{g}" for g in GROUPS),
    *(f"{k}_x_{g}" for k in KINDS for g in GROUPS),
)
_RULES_AT = SPAN_FEATURES.index("is_rules_short")
_TYPE_AT = SPAN_FEATURES.index("type_sim")


@dataclass(frozen=True)
class SpanCandidate:
    """A span of ``sentences[sentence].text[start:end]`` with its coarse ``group`` and entity ``label``."""

    sentence: int
    start: int
    end: int
    group: str
    label: str

    def text_in(self, sentences: Sequence[SentenceIn]) -> str:
        return sentences[self.sentence].text[self.start : self.end]


def _runs(text: str) -> list[tuple[int, int]]:
    """Maximal runs of content words joined by spaces only (at most ``MAX_RUN_WORDS`` words)."""
    runs: list[tuple[int, int]] = []
    run: list[re.Match[str]] = []
    for token in _TOKEN.finditer(text):
        stop = token.group(0).lower() in STOP_WORDS
        joined = bool(run) and not text[run[-1].end() : token.start()].strip()
        if run and (stop or not joined or len(run) == MAX_RUN_WORDS):
            runs.append((run[0].start(), run[-1].end()))
            run = []
        if not stop:
            run.append(token)
    if run:
        runs.append((run[0].start(), run[-1].end()))
    return runs


def candidates_in(index: int, s: SentenceIn, rules_short: str = "") -> list[SpanCandidate]:
    """Every candidate span of sentence ``s`` (``index``: its place in the reading), one per offsets;
    the rules' short answer is one wherever the sentence says it."""
    found: dict[tuple[int, int], SpanCandidate] = {}
    if rules_short:
        for m in re.finditer(rf"(?<!\w){re.escape(rules_short)}(?!\w)", s.text, re.I):
            found[(m.start(), m.end())] = SpanCandidate(index, m.start(), m.end(), "rules", "")
    for start, end, label in s.entities:
        if (start, end) not in found:
            found[(start, end)] = SpanCandidate(index, start, end, _GROUPS.get(label, "name"), label)
    patterns = ((_DATE, "date"), (_NUMBER, "number"), (_NAME, "name"))
    for pattern, group in patterns:
        for m in pattern.finditer(s.text):
            span = (m.start(), m.end())
            if span not in found and m.group(0).lower() not in STOP_WORDS:
                found[span] = SpanCandidate(index, *span, group, "")
    for span in _runs(s.text):
        if span not in found:
            found[span] = SpanCandidate(index, *span, "run", "")
    return sorted(found.values(), key=lambda c: (c.start, c.end))


def _says(sentence: str, span: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(span)}(?!\w)", sentence, re.I) is not None


def type_similarity(asked: Asked, texts: Sequence[str], embed: Embed | None) -> np.ndarray:
    """For each text, its cosine with ``asked.type_phrase`` by ``embed`` (one call per distinct
    text); zeros when the question names no type or there is no embedder."""
    if embed is None or not asked.type_phrase or not texts:
        return np.zeros(len(texts))
    asked_vector = embed(asked.type_phrase)
    sims: dict[str, float] = {}
    for text in texts:
        if text not in sims:
            sims[text] = float(embed(text) @ asked_vector)
    return np.array([sims[t] for t in texts], dtype=np.float64)


def span_matrix(
    asked: Asked, sentences: Sequence[SentenceIn], probs: np.ndarray, rules_short: str = "", embed: Embed | None = None
) -> tuple[list[SpanCandidate], np.ndarray]:
    """The candidates of the ``SPAN_SENTENCES`` most probable sentences and one row of
    ``SPAN_FEATURES`` each (``rules_short``: the rules' short answer, "" if none; ``embed``: the
    query embedder, for how well each span fits the type a "which" question asks for)."""
    best = np.argsort(-probs, kind="stable")[:SPAN_SENTENCES].tolist() if len(probs) else []
    spans = [c for i in best for c in candidates_in(i, sentences[i], rules_short)]
    voters = np.argsort(-probs, kind="stable")[:VOTE_SENTENCES].tolist() if len(probs) else []
    mass = float(sum(probs[i] for i in voters)) or 1.0
    rows: list[list[float]] = []
    vote_of: dict[str, tuple[float, int]] = {}
    texts = [c.text_in(sentences) for c in spans]
    typed = type_similarity(asked, texts, embed)
    # the best of the spans that are not the question's own words ("which drug": not "drug" itself)
    fresh = [sim for text, sim in zip(texts, typed.tolist(), strict=True) if not set(words(text)) <= asked.all_words]
    best_type = max(fresh, default=float(typed.max()) if len(typed) else 0.0)
    for c, text, sim in zip(spans, texts, typed.tolist(), strict=True):
        key = text.lower()
        if key not in vote_of:
            saying = [i for i in voters if _says(sentences[i].text, text)]
            vote_of[key] = (float(sum(probs[i] for i in saying)), len(saying))
        vote, count = vote_of[key]
        row = _span_row(asked, sentences[c.sentence], c, float(probs[c.sentence]), vote, mass, count, best)
        row = row[:_RULES_AT] + _rules_match(text, rules_short) + row[_RULES_AT:]
        rows.append([*row[:_TYPE_AT], sim, sim - best_type, *row[_TYPE_AT:]])
    return spans, np.array(rows, dtype=np.float64).reshape(len(rows), len(SPAN_FEATURES))


def _flat(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _rules_match(text: str, rules_short: str) -> list[float]:
    """``is_rules_short`` and ``holds_rules_short``."""
    if not rules_short:
        return [0.0, 0.0]
    mine, theirs = f" {_flat(text)} ", f" {_flat(rules_short)} "
    return [float(mine == theirs), float(theirs in mine or mine in theirs)]


def _span_row(
    asked: Asked,
    s: SentenceIn,
    c: SpanCandidate,
    prob: float,
    vote: float,
    mass: float,
    count: int,
    best: list[int],
) -> list[float]:
    text = s.text[c.start : c.end]
    own = words(text) or [""]
    asked_share = sum(w in asked.all_words for w in own) / len(own)
    tokens = list(_TOKEN.finditer(s.text))
    inside = [i for i, t in enumerate(tokens) if t.start() >= c.start and t.end() <= c.end] or [0]
    near = [i for i, t in enumerate(tokens) if plain(t.group(0)) in asked.words and i not in inside]
    distance = min((min(abs(i - j) for j in inside) for i in near), default=0)
    after = [t for t in tokens if t.start() >= c.end][:1]
    before = [t for t in tokens if t.end() <= c.start][-1:]
    raw = _TOKEN.findall(text) or [""]
    clipped = min(max(prob, 1e-6), 1 - 1e-6)
    groups = [float(c.group == g) for g in GROUPS]
    kinds = [float(asked.kind == k) for k in KINDS]
    return [
        prob,
        math.log(clipped / (1 - clipped)),
        vote,
        vote / mass,
        float(count),
        float(bool(best) and c.sentence == best[0]),
        asked_share,
        float(asked_share == 1.0),
        math.log1p(distance),
        float(not near),
        float(any(plain(t.group(0)) in asked.words for t in after)),
        float(any(plain(t.group(0)) in asked.words for t in before)),
        math.log1p(len(raw)),
        float(len(raw) > 4),
        sum(w[:1].isupper() for w in raw) / len(raw),
        float(not s.text[: c.start].strip()),
        float(s.text[max(c.start - 1, 0) : c.start] in ("“", '"') and s.text[c.end : c.end + 1] in ("”", '"')),
        float(bool(c.label) and c.label in asked.labels),
        float(bool(c.label)),
        *groups,
        *(k * g for k in kinds for g in groups),
    ]
