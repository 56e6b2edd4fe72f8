"""The reader's model card: a fitted ``Reader`` + its figures -> MODEL_CARD.md (Markdown)."""

from __future__ import annotations

from qa.reader.model import Reader


def _top(names: tuple[str, ...], coef: list[float], n: int = 8) -> str:
    ranked = sorted(zip(names, coef, strict=True), key=lambda p: -abs(p[1]))[:n]
    return ", ".join(f"`{name}` {weight:+.2f}" for name, weight in ranked)


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def model_card(reader: Reader, final: str, cross: str, meta: dict[str, object]) -> str:
    """The model card's text."""
    parts = (reader.sentence, reader.span, reader.answer)
    train_sets = ", ".join(str(s) for s in _names(meta["train_sets"]))
    test_sets = ", ".join(str(s) for s in _names(meta["test_sets"]))
    sizes = ", ".join(
        f"{name} {len(p.features)}" for name, p in zip(("sentence", "span", "answerable"), parts, strict=True)
    )
    return f"""# The learned reader (qa/reader)

Three logistic regressions over features the answer step computes (qa/reader/features.py,
qa/reader/spans.py), fitted with scikit-learn (fixed seed) by `python -m train`, shipped as
plain JSON (`reader.json`, checked against `checksums.json` on load) and run with NumPy:

- **sentence**: the probability that a candidate sentence holds the answer;
- **span**: the probability that a candidate span (an entity, a name, number or date found
  by pattern, a run of content words) in the 5 most probable sentences is the short answer;
  two of its features are the span's cosine, by the query embedder (the packaged
  all-MiniLM-L6-v2 here), with the type a "which"/"what" question names ("which drug": drug),
  and that cosine's gap to the best candidate's that is not made of the question's own words;
- **answerable**: the probability that some candidate sentence holds the answer.

Features per model: {sizes}. Largest standardised weights:

- sentence: {_top(reader.sentence.features, reader.sentence.coef.tolist())}
- span: {_top(reader.span.features, reader.span.coef.tolist())}
- answerable: {_top(reader.answer.features, reader.answer.coef.tolist())}

Thresholds: answerable {reader.answerable_threshold:.4f} (chosen on {meta["threshold_set"]}'s
text-based questions: the highest that declines at most 10% of its answerable questions);
span {reader.span_threshold:.2f} (under it the answer is the best sentence, not a phrase).

## Data and licences

Trained only on {train_sets} (the development datasets, kept outside the
repository, in the format of eval/README.md; sources: RealTimeQA news-quiz questions and the articles a
web search returned for them). Never trained on {test_sets}:
they are test sets, reported only (quail_news is CC BY-NC-SA 4.0). Examples per set
(`gold`: the question as retrieved; training sets also `filtered`: the same question with the
articles known to answer it removed, the unanswerable examples): {meta["examples"]}.
Labels by normalised containment of a gold answer (eval/metrics.py). No dataset text is in
the repository: only these weights and figures.

## Figures

Across years (fit on some years, report on another; the answerable threshold here is the
held-out year's own 10% point, so only the ranking figures and the AUC compare):

{cross}

The shipped model (fit on every training set; rules = the current answer step on the same
questions; realtimeqa 2026 and quail are unseen test sets; on training sets the figures
are in-sample and "unanswerable" are the filtered readings):

{final}

## Cost

Training: collecting candidates {meta["collect_seconds"]} s (cached after the first run),
fitting {meta["fit_seconds"]} s, whole command {meta["total_seconds"]} s on the project's 2-core
machine (Python {meta["python"]}). At question time the reader adds NumPy work over at most 30
sentences and spaCy's entities of them (shared with the answer step's entity check), and for a
"which" question one query-embedder call per distinct candidate span (about 2 ms each on one core).

## Retrain

    python -m train --datasets DATASETS --out qa/models/reader --indexes /path/to/indexes

`--indexes` holds `idx-SET` folders (built there when missing, which takes long for 2023);
collected candidates are cached in `--scratch` (default ../reader-scratch); delete them after
changing the retrieval or answer step. `python -m train.evaluate` reports the shipped model.
"""
