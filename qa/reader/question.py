"""The question as the reader reads it, parsed once: str -> ``Asked`` (kind, labels, words, names).

Words are compared in a plain form (lower case, a plural "s" dropped, stop words out), so that
"ferries" and "ferry" still differ but "Ferry" and "ferry" do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.dates import without_time_words
from qa.kinds import AnswerType, has_answer_of_type
from qa.question import Question

KINDS: tuple[AnswerType, ...] = ("person", "place", "time", "number", "entity", "speech", "expansion", "other")
_WORD = re.compile(r"[\w'’]+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+")
STOP_WORDS = frozenset(
    """
    a an the of in on at to for from by with and or but is are was were be been being it its this that these
    those as into than then there their they he she his her him we our you your who whom whose what when where
    which why how do does did has have had not no will would can could should may might about after before over
    under more most s said says also new one first last this week year month day following name named called
    according just now so if
    """.split()
)


def plain(word: str) -> str:
    """The compared form of a word: lower case, no possessive, a final plural "s" dropped.

    Example:
        >>> plain("Senators'"), plain("Gaza’s"), plain("bus"), plain("Ellis")
        ('senator', 'gaza', 'bus', 'ellis')
    """
    word = word.lower().rstrip("'’")
    word = re.sub(r"['’]s$", "", word)
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us")) else word


def words(text: str) -> list[str]:
    """The plain forms of ``text``'s words, stop words included, in order."""
    return [plain(w) for w in _WORD.findall(text)]


def content(text: str) -> set[str]:
    """The plain forms of ``text``'s words that are not stop words (nor lone digits)."""
    return {
        plain(w)
        for w in _WORD.findall(text)
        if (w.lower() not in STOP_WORDS and not w.isdigit()) or (w.isdigit() and len(w) == 4)
    }


@dataclass(frozen=True)
class Asked:
    """What a question asks: its answer ``kind``, the entity ``labels`` an answer may have, its
    content ``words`` (all, and of the sentence that asks), its capitalised ``names``."""

    text: str
    kind: AnswerType
    labels: frozenset[str]
    words: frozenset[str]
    asking: frozenset[str]
    names: frozenset[str]
    all_words: frozenset[str]
    letters: str = ""
    typed_words: frozenset[str] = frozenset()  # the answer step's question words (qa.question.Question.words)
    type_phrase: str = ""  # what a "which" question asks for ("which drug": drug; qa.question.type_phrase)

    def has_type(self, sentence: str) -> bool:
        """``sentence`` holds something of the kind asked for that the question does not (qa/kinds.py)."""
        return self.kind != "other" and has_answer_of_type(self.kind, sentence, self.typed_words, self.letters)

    @classmethod
    def parse(cls, question: str) -> Asked:
        """Parse ``question`` once.

        Example:
            >>> a = Asked.parse("The mayor of Port Ellis opened a ferry line. Where does it go?")
            >>> a.kind, sorted(a.names), sorted(a.asking)
            ('place', ['ellis', 'port'], ['go'])
        """
        return cls.of(Question.parse(question))

    @classmethod
    def of(cls, parsed: Question) -> Asked:
        """The reader's view of a question the engine parsed already (no second parse)."""
        question = parsed.text
        plain_question = without_time_words(question)
        asking = without_time_words(parsed.asking)
        return cls(
            text=question,
            kind=parsed.kind,
            labels=parsed.labels,
            words=frozenset(content(plain_question)),
            asking=frozenset(content(asking)),
            names=frozenset(
                plain(m.group(0)) for m in _NAME.finditer(question) if m.group(0).lower() not in STOP_WORDS
            ),
            all_words=frozenset(words(question)),
            letters=parsed.letters,
            typed_words=parsed.words,
            type_phrase=parsed.type_phrase,
        )
