"""BM25 keyword index over chunk texts: build, extend, score a query, save and load as plain files.

Terms come from bm25s's tokenizer (English stop words, Snowball stems, irregular past forms);
the counts live in segments (``postings.py``), saved as ``.npy`` files and memory-mapped. An
index written before segments (bm25s's own files, formats 1-3) is still read, through bm25s.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError, IndexMismatchError
from index.store.postings import BUILD_BLOCK, Scorer, Segment, settle
from index.store.verify import read_manifest_file, verified_path

_TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")


# Past forms the Snowball stemmer leaves alone ("met" stays "met"): mapped to the base
# form first, so "Who did Lavrov meet?" matches "Lavrov met with ...".
_IRREGULAR = {
    past: base
    for base, forms in {
        "meet": "met",
        "say": "said",
        "find": "found",
        "win": "won",
        "take": "took taken",
        "go": "went gone",
        "leave": "left",
        "hold": "held",
        "tell": "told",
        "make": "made",
        "give": "gave given",
        "come": "came",
        "run": "ran",
        "begin": "began begun",
        "fall": "fell fallen",
        "rise": "rose risen",
        "see": "saw seen",
        "know": "knew known",
        "think": "thought",
        "bring": "brought",
        "buy": "bought",
        "sell": "sold",
        "send": "sent",
        "spend": "spent",
        "build": "built",
        "lose": "lost",
        "pay": "paid",
        "keep": "kept",
        "lead": "led",
        "strike": "struck",
        "choose": "chose chosen",
        "speak": "spoke spoken",
        "write": "wrote written",
        "drive": "drove driven",
        "fly": "flew flown",
        "grow": "grew grown",
        "throw": "threw thrown",
        "catch": "caught",
        "teach": "taught",
        "fight": "fought",
        "shoot": "shot",
        "stand": "stood",
        "become": "became",
        "break": "broke broken",
        "steal": "stole stolen",
        "hide": "hid hidden",
        "seek": "sought",
        "sink": "sank sunk",
        "swim": "swam",
        "sing": "sang sung",
        "wear": "wore worn",
        "tear": "tore torn",
        "freeze": "froze frozen",
        "bear": "bore born",
        "forbid": "forbade",
        "forgive": "forgave",
        "eat": "ate eaten",
        "draw": "drew drawn",
        "arise": "arose arisen",
        "feel": "felt",
        "hear": "heard",
        "mean": "meant",
        "sit": "sat",
        "sleep": "slept",
        "light": "lit",
        "feed": "fed",
        "flee": "fled",
        "bleed": "bled",
        "dig": "dug",
        "hang": "hung",
        "shake": "shook shaken",
        "wake": "woke woken",
        "ride": "rode ridden",
    }.items()
    for past in forms.split()
}


class _IrregularStemmer:
    """Snowball English, after mapping irregular past forms to their base verb."""

    def __init__(self) -> None:
        import Stemmer

        self._snowball = Stemmer.Stemmer("english")

    def stemWords(self, words: list[str]) -> list[str]:
        return self._snowball.stemWords([_IRREGULAR.get(w, w) for w in words])  # type: ignore[no-any-return]


def _tokens(texts: Sequence[str], stemmer: Any) -> list[list[str]]:
    """bm25s's tokens of each text: English stop words out, ``stemmer``'s stems."""
    import bm25s

    return bm25s.tokenize(  # type: ignore[no-any-return]
        list(texts),
        stopwords="en_plus",
        stemmer=stemmer,
        return_ids=False,
        show_progress=False,
        token_pattern=_TOKEN.pattern,
    )


class _Terms:
    """Text -> the terms an index sees (bm25s's tokens: stop words out, Snowball stems), its stemmer made
    on first use."""

    def __init__(self) -> None:
        self._stem: Any = None

    def __call__(self, text: str) -> list[str]:
        if self._stem is None:
            self._stem = _IrregularStemmer()
        return _tokens([text], self._stem)[0]


def _scoring(scorer: Scorer | _Bm25s, terms: _Terms) -> Any:
    """Query -> read-only BM25 scores of every row, from ``scorer`` and ``terms`` alone (not their index)."""

    def score(query: str) -> np.ndarray:
        out = scorer.scores(terms(query)) if scorer.size else np.zeros(0, dtype=np.float32)
        out.flags.writeable = False
        return out

    return score


class _Bm25s:
    """A keyword index saved by bm25s (formats 1-3): its precomputed scores, read whole."""

    def __init__(self, retriever: Any, size: int) -> None:
        self._retriever = retriever
        self.size = size
        self.segments: list[Segment] = []  # none: such an index is counted again when extended
        vocab: dict[str, int] = getattr(retriever, "vocab_dict", None) or {}
        self._vocab = vocab

    def df(self, term: str) -> int:
        col = self._vocab.get(term)
        indptr = self._retriever.scores["indptr"] if self.size else np.zeros(1, np.int64)
        return int(indptr[col + 1] - indptr[col]) if col is not None and col + 1 < len(indptr) else 0

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        known = [t for t in terms if t in self._vocab]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)


class KeywordIndex:
    """Okapi BM25 scores of every chunk for a query; row ``i`` is chunk row ``i``.

    Example:
        >>> kw = KeywordIndex.build(["Lavrov met Arab envoys", "Rain in Peru"])
        >>> int(np.argmax(kw.scores("What did Lavrov say?")))
        0
    """

    # names how text becomes terms; saved in the manifest, so a change is noticed at load
    TOKENIZER = "bm25s-en_plus/snowball-english/irregular-verbs-1"

    def __init__(self, scorer: Scorer | _Bm25s) -> None:
        self._scorer = scorer
        self.size = scorer.size
        self._terms = _Terms()
        # a question is scored twice (all dates, then its date window): the scores of the last few are kept,
        # by a function of the scorer, not of ``self``: a bound method would make a cycle (index -> cache ->
        # method -> index) that keeps an old generation's memory-mapped segments open until the cyclic GC runs
        self._scores = lru_cache(maxsize=4)(_scoring(scorer, self._terms))

    @classmethod
    def _count(cls, texts: Sequence[str]) -> list[Segment]:
        """Segments over ``texts``, tokenised and counted a block at a time (bounded memory)."""
        stemmer = _IrregularStemmer()
        segments: list[Segment] = []
        for start in range(0, len(texts), BUILD_BLOCK):
            block = [texts[i] for i in range(start, min(start + BUILD_BLOCK, len(texts)))]
            segments = settle([*segments, Segment.count(_tokens(block, stemmer))])
        return segments

    @classmethod
    def build(cls, texts: Sequence[str]) -> KeywordIndex:
        return cls(Scorer(cls._count(texts)))

    def extend(self, kept: np.ndarray | None, texts: Sequence[str], all_texts: Sequence[str]) -> KeywordIndex:
        """This index with only the rows where boolean ``kept`` is True (None: all), then ``texts``.

        Kept segments are not counted again (only filtered when rows go); an index saved by bm25s
        holds no counts and is built again from ``all_texts`` (the kept rows' texts, then ``texts``).
        """
        if isinstance(self._scorer, _Bm25s):
            return KeywordIndex.build(all_texts)
        segments = self._scorer.segments
        if kept is not None:
            bounds = np.cumsum([0, *(len(s) for s in segments)])
            segments = [s.keep(kept[a:b]) for s, a, b in zip(segments, bounds, bounds[1:], strict=False)]
            segments = [s for s in segments if len(s)]
        return KeywordIndex(Scorer(settle([*segments, *self._count(texts)]) if len(texts) else segments))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when no query word is indexed); read-only."""
        scores: np.ndarray = self._scores(query)
        return scores

    def terms(self, text: str) -> list[str]:
        """The stemmed, stop-word-free terms of ``text``, as the index sees them."""
        return self._terms(text)

    def known(self, terms: Sequence[str]) -> set[str]:
        """The terms that at least one chunk contains."""
        return {t for t in terms if self._scorer.df(t) > 0} if self.size else set()

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the chunks (unknown terms: the maximum)."""
        n = max(self.size, 1)
        result: dict[str, float] = {}
        for term in terms:
            df = self._scorer.df(term) if self.size else 0
            result[term] = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return result

    def save(self, directory: Path) -> None:
        """Write the segments to ``directory`` (``segments.json``, ``seg-NNNNNN/``); a segment read from a
        generation (the last one) is hard-linked from there, not written again (``save_index`` checks
        the linked files against that generation's checksums)."""
        directory.mkdir(parents=True, exist_ok=True)
        names = []
        for i, segment in enumerate(self._scorer.segments):
            target = directory / f"seg-{i:06d}"
            source = Path(segment.name) if segment.name else None
            if source is not None and source.is_dir():
                target.mkdir()
                for part in sorted(source.iterdir()):
                    os.link(part, target / part.name)
            else:
                segment.save(target)
            names.append({"name": target.name, "rows": len(segment)})
        (directory / "segments.json").write_text(json.dumps(names), encoding="utf-8")
        (directory / "size.txt").write_text(str(self.size), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        """Read a saved index (segments memory-mapped; bm25s's files read whole)."""
        import bm25s

        try:
            size = int((directory / "size.txt").read_text(encoding="utf-8"))
            if not (directory / "segments.json").is_file():  # saved by bm25s (formats 1-3)
                retriever = bm25s.BM25.load(str(directory), mmap=False) if size else bm25s.BM25()
                return cls(_Bm25s(retriever, size))
            listed = json.loads((directory / "segments.json").read_text(encoding="utf-8"))
            segments = [Segment.load(directory / str(entry["name"])) for entry in listed]
            if [len(s) for s in segments] != [entry["rows"] for entry in listed] or sum(map(len, segments)) != size:
                raise ValueError(f"segments of {[len(s) for s in segments]} rows, {size} listed")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptIndexError(
                f"{directory}: keyword index unreadable ({exc}); rebuild with newsqa index --rebuild"
            ) from exc
        return cls(Scorer(segments))


def load_keyword_index(root: Path, generation: str, texts: Sequence[str] | None = None) -> KeywordIndex:
    """The BM25 index saved with generation ``generation``, its checksums verified first.

    An index saved by a newsqa whose tokenizer differs (stemming, stop words) would match
    queries against other terms: given the chunk ``texts``, it is rebuilt in memory (no
    embedding involved); without them, that is an error.
    """
    root = Path(root)
    folder = root / generation
    manifest = read_manifest_file(folder / "manifest.json", root)
    tokenizer = manifest.get("keyword", {}).get("tokenizer")
    if tokenizer != KeywordIndex.TOKENIZER:
        if texts is None:
            raise IndexMismatchError(
                f"{folder / 'manifest.json'}: keyword index made by tokenizer {tokenizer!r}, this newsqa uses "
                f"{KeywordIndex.TOKENIZER!r}; rebuild with: newsqa index --rebuild PATH... --index {root}"
            )
        return KeywordIndex.build(texts)
    for name, checksum in manifest["checksums"].items():
        if name.startswith("keyword/"):  # hashed while streamed: segments are memory-mapped, not read whole
            verified_path(folder, name, checksum, root)
    return KeywordIndex.load(folder / "keyword")
