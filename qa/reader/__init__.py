"""The learned reader: candidate sentences -> sentence probabilities, a short-answer span, answerability.

Fitted on data by ``python -m train`` (train/; see qa/models/reader/MODEL_CARD.md), shipped as
plain JSON weights checked by sha256 on load, run with NumPy (no torch, no scikit-learn).

How the answer step calls it (qa/answer.py, ``ExtractiveAnswerer.draft``)::

    from qa.reader import Reader, from_candidates

    reader = Reader.load()                      # once, in the composition root (load_assistant);
                                                # raises ReaderModelError if the weights are altered
    candidates = self.candidates(question, vector, passages)   # as today, rules' order
    short = extract(...)                        # as today: the rules' short answer, or None
    sentences = from_candidates(candidates, self.data.articles, self.tagger)   # the first 30
    reading = reader.read(question, sentences, rules_short=short, embed=self.embed)
                                                # embed: the query embedder, for the span type features

    reading.order      # sentence indices, most probable first: quotes = [sentences[i] for i in order]
                       # (SentenceIn keeps article_id, start, end: Quote(s.article_id, s.start, s.end, s.text))
    reading.probs      # numpy array, P(sentence i answers)
    reading.span       # Span (text, sentence index, start, end inside that sentence, prob) when
                       # prob >= reader.span_threshold; None: answer with the best sentence instead
    reading.best_span  # the best span whatever its probability (to highlight in the best sentence)
    reading.answerable # P(some candidate answers); reading.abstain is answerable < reader.answerable_threshold
    reading.abstain    # True: decline ("The articles don't say ..."), Draft.score = reading.answerable

``rules_short`` is an input, not a shortcut: the sentence and span models weigh "says the
rules' short answer" as one feature among others (fitted that way; without it they rank worse).
The answerable threshold was chosen on quail_news's text-based questions (see the model
card); ``settings.abstain_below`` is the rules' threshold and does not apply to it. The
reader reads the rules' first ``READ_SENTENCES`` (30) candidates: keep ``candidates`` sorted
by the rule score, as it is; its ``score`` is one of the reader's features. ``tagger`` None
(entities off) works, with weaker answers: the model was fitted with spaCy's entities.
"""

from qa.reader.model import Reader, ReaderModelError, Reading
from qa.reader.records import READ_SENTENCES, SentenceIn, Span, from_candidates

__all__ = ["READ_SENTENCES", "Reader", "ReaderModelError", "Reading", "SentenceIn", "Span", "from_candidates"]
