"""Boilerplate removal for plain text saved from web pages: text -> the article text, a prefix of it.

Pages saved as text carry the site's navigation after the article ("You might also like",
"Latest news", a run of unrelated headlines). ``strip_boilerplate`` cuts that tail and
returns a prefix of its input (right-stripped), so nothing inside the article moves.

The rules, all about the *end* of the text:

1. A navigation marker line ("You might also like", "Latest news", "Related articles",
   "Read more", "More from ...", "Most popular", "Share this article", "Sign up for our
   newsletter", ...) cuts the text there, but only when article prose comes before it
   and no article prose comes after it. A marker in the middle of the article (an inline
   "Read more" link followed by more paragraphs) is left alone, and so is "read more"
   inside a sentence: a marker is a whole, short line.
2. A trailing run of navigation lines is dropped: a line packing several headlines cut
   short with "...", or two or more short lines each cut short with "..." (links to
   other stories). Lines that merely look like headlines (title case, no full stop) are
   kept: articles end with lists too (award winners, tour dates, sign-offs).

Whatever is cut, the text keeps at least one prose line; otherwise it is returned as is.
"""

from __future__ import annotations

import re

_MARKER = re.compile(
    r"""(?:
        you\s+(?:might|may)\s+(?:also\s+)?(?:like|enjoy|be\s+interested\s+in)
      | (?:the\s+)?latest(?:\s+(?:news|stories|articles|headlines|updates))?
      | related(?:\s+(?:articles?|stories|news|posts|content|coverage|topics|links|reading))?
      | read\s+(?:more|next|also)(?:\s+(?:stories|news|articles|from\s+.{1,40}))?
      | also\s+read | see\s+also | in\s+other\s+news | don'?t\s+miss
      | more\s+(?:stories|news|articles|headlines|to\s+read)
      | more\s+(?:from|on|in|about|by)\s+.{1,50}
      | (?:most|top)\s+(?:popular|read|viewed|shared|stories|news|headlines)(?:\s+(?:stories|articles|news|now))?
      | popular(?:\s+(?:now|stories|articles|news))?
      | trending(?:\s+(?:now|stories|news|articles|topics))?
      | recommended(?:\s+(?:for\s+you|stories|articles|reading))?
      | editor'?s?\s+picks?
      | share(?:\s+(?:this|on|via))?(?:\s+(?:article|story|page|post))?
      | (?:sign\s+up|subscribe)(?:\s+(?:for|to))?\s+(?:our|the)\s+.{0,30}newsletters?.{0,30}
      | newsletters? | advertisement | sponsored(?:\s+content)?
      | follow\s+us(?:\s+on\s+.{1,40})?
      | (?:leave\s+a\s+)?comments? | tags | topics
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_MARKER_MAX_LEN = 70
_TRIM = " \t:|»›>→•-–—*#"
_ELLIPSIS = re.compile(r"(?:\.\.\.|…)")
_SENTENCE_END = re.compile(r"""[.!?؟。]['"”’»)\]]*$""")
_WORD = re.compile(r"\w[\w'’.-]*")


def is_marker(line: str) -> bool:
    """True for a short line that is only a navigation marker, e.g. "You might also like"."""
    core = line.strip().strip(_TRIM).strip()
    return 0 < len(core) <= _MARKER_MAX_LEN and _MARKER.fullmatch(core) is not None


def is_packed_headlines(line: str) -> bool:
    """True for one line holding several headlines cut short with "..." (a pasted link list)."""
    cuts = _ELLIPSIS.findall(line)
    return len(cuts) >= 3 and len(line) >= 150 and len(cuts) * 300 >= len(line)


def is_cut_headline(line: str) -> bool:
    """True for a short line cut off with "..." the way link lists truncate headlines."""
    stripped = line.strip()
    return 3 <= len(_WORD.findall(stripped)) <= 25 and len(stripped) <= 200 and bool(_ELLIPSIS.search(stripped[-3:]))


def is_prose(line: str) -> bool:
    """True for a line of article prose: a sentence of several words, not a list of headlines."""
    stripped = line.strip()
    if is_packed_headlines(stripped) or len(_ELLIPSIS.findall(stripped)) >= 2:
        return False
    return len(_WORD.findall(stripped)) >= 8 and _SENTENCE_END.search(stripped) is not None


def _navigation(line: str) -> bool:
    return is_marker(line) or is_packed_headlines(line) or is_cut_headline(line)


def _marker_cut(lines: list[str]) -> int:
    """Index of the first marker line with prose before it and none after it, else ``len(lines)``."""
    prose_after = [False] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        prose_after[i] = prose_after[i + 1] or is_prose(lines[i])
    seen_prose = False
    nonblank = 0
    for i, line in enumerate(lines):
        if seen_prose and nonblank >= 2 and is_marker(line) and not prose_after[i + 1]:
            return i
        seen_prose = seen_prose or is_prose(line)
        nonblank += bool(line.strip())
    return len(lines)


def _tail_cut(lines: list[str]) -> int:
    """Start of a trailing run of navigation lines worth dropping, else ``len(lines)``."""
    start = len(lines)
    count = 0
    strong = False  # a packed line or a marker is navigation on its own
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line.strip():
            continue
        if not _navigation(line):
            break
        start = i
        count += 1
        strong = strong or is_packed_headlines(line) or is_marker(line)
    return start if (strong or count >= 2) else len(lines)


def strip_boilerplate(text: str) -> str:
    """Return ``text`` without a trailing block of site navigation (a right-stripped prefix).

    Example:
        >>> strip_boilerplate("Title\\n\\nThe minister said the talks would resume on Monday.\\n\\nLatest news\\nA\\n")
        'Title\\n\\nThe minister said the talks would resume on Monday.'
    """
    lines = text.split("\n")
    lines = lines[: _marker_cut(lines)]
    lines = lines[: _tail_cut(lines)]
    kept = "\n".join(lines).rstrip()
    if not any(is_prose(line) for line in lines):
        return text.rstrip()
    return kept
