"""BM25 keyword index over chunk texts (bm25s): build, score a query, save and load as plain files."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndexError

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


class KeywordIndex:
    """Okapi BM25 scores of every chunk for a query; row ``i`` is chunk row ``i``.

    Example:
        >>> kw = KeywordIndex.build(["Lavrov met Arab envoys", "Rain in Peru"])
        >>> int(np.argmax(kw.scores("What did Lavrov say?")))
        0
    """

    # names how text becomes terms; saved in the manifest, so a change is noticed at load
    TOKENIZER = "bm25s-en_plus/snowball-english/irregular-verbs-1"

    def __init__(self, retriever: Any, size: int) -> None:
        self._retriever = retriever
        self.size = size
        self._stem: Any = None

    @staticmethod
    def _stemmer() -> Any:
        return _IrregularStemmer()

    @classmethod
    def _tokenize(cls, texts: Sequence[str], stemmer: Any) -> list[list[str]]:
        import bm25s

        return bm25s.tokenize(  # type: ignore[no-any-return]
            list(texts),
            stopwords="en_plus",
            stemmer=stemmer,
            return_ids=False,
            show_progress=False,
            token_pattern=_TOKEN.pattern,
        )

    @classmethod
    def build(cls, texts: Sequence[str]) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        tokens = cls._tokenize(texts, cls._stemmer()) if texts else []
        if not any(tokens):  # no chunk has a word to index (bm25s cannot index an empty vocabulary)
            return cls(bm25s.BM25(), 0)
        retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when no query word is indexed)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.float32)
        tokens = self.terms(query)
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def terms(self, text: str) -> list[str]:
        """The stemmed, stop-word-free terms of ``text``, as the index sees them."""
        if self._stem is None:
            self._stem = self._stemmer()
        return self._tokenize([text], self._stem)[0]

    def known(self, terms: Sequence[str]) -> set[str]:
        """The terms that at least one chunk contains."""
        vocab: dict[str, int] = getattr(self._retriever, "vocab_dict", None) or {}
        return {t for t in terms if t in vocab} if self.size else set()

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the chunks (unknown terms: the maximum)."""
        n = max(self.size, 1)
        vocab: dict[str, int] = getattr(self._retriever, "vocab_dict", None) or {}
        indptr = self._retriever.scores["indptr"] if self.size else np.zeros(1, np.int64)
        result: dict[str, float] = {}
        for term in terms:
            col = vocab.get(term)
            df = int(indptr[col + 1] - indptr[col]) if col is not None and col + 1 < len(indptr) else 0
            result[term] = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return result

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(directory))
        (directory / "size.txt").write_text(str(self.size), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        import bm25s

        try:
            size = int((directory / "size.txt").read_text(encoding="utf-8"))
            retriever = bm25s.BM25.load(str(directory), mmap=False) if size else bm25s.BM25()
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptIndexError(
                f"{directory}: keyword index unreadable ({exc}); rebuild with newsqa index --rebuild"
            ) from exc
        return cls(retriever, size)
