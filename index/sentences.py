"""Split text into sentence spans: str -> list of (start, end) offsets into that text.

A small rule-based splitter, because the libraries made for this either fetch data at run
time (NLTK's punkt) or cost seconds per megabyte (pysbd); news prose is regular enough
for rules: a sentence ends at . ! ? (optionally followed by a closing quote or bracket)
before whitespace and an upper-case letter, digit or opening quote, unless the word
before the stop is a known abbreviation or an initial; a blank line always ends one.
"""

from __future__ import annotations

import re

# Words after which a full stop does not end the sentence (compared in lower case).
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "gov",
        "sen",
        "rep",
        "pres",
        "rev",
        "hon",
        "no",
        "vs",
        "etc",
        "inc",
        "ltd",
        "corp",
        "co",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ft",
        "ave",
        "blvd",
        "dept",
        "est",
        "fig",
        "approx",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "d.c",
    ]
)

_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])""")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*[-*•])")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def _is_abbreviation(text: str, stop: int) -> bool:
    """True when the full stop at ``stop`` closes an abbreviation or a single initial."""
    if text[stop] != ".":
        return False
    match = _WORD_BEFORE.search(text, max(0, stop - 12), stop + 1)
    if match is None:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or len(word) == 1


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return the sentence spans of ``text[start:end]`` as offsets into ``text``.

    Every span is stripped of surrounding whitespace and non-empty; spans are in order and
    do not overlap.

    Example:
        >>> t = "Mr. Lavrov spoke. He called for a ceasefire!"
        >>> [t[a:b] for a, b in split_sentences(t)]
        ['Mr. Lavrov spoke.', 'He called for a ceasefire!']
    """
    stop = len(text) if end is None else end
    cuts: list[int] = []
    for para in _PARAGRAPH.finditer(text, start, stop):
        cuts.append(para.start())
    for match in _BOUNDARY.finditer(text, start, stop):
        last_stop = match.start()
        # the last of a run of stops decides ("U.S.." is rare; "...'" is common)
        while last_stop + 1 < match.end() and text[last_stop + 1] in ".!?…":
            last_stop += 1
        if not _is_abbreviation(text, last_stop):
            cuts.append(match.end())
    spans: list[tuple[int, int]] = []
    begin = start
    for cut in sorted(set(cuts)):
        span = _trimmed(text, begin, cut)
        if span:
            spans.append(span)
        begin = cut
    span = _trimmed(text, begin, stop)
    if span:
        spans.append(span)
    return spans
