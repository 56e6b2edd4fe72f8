"""A line filter for text extracted from web pages: text -> the text without boilerplate lines.

Trafilatura keeps some lines that are the page's furniture, not the article: teasers for
other stories ("Read more: ...", "TIMELINE: ..."), newsletter and subscribe prompts, bare
URLs, photo captions and credits ("Photos: The life of ... Getty Images/..."). Each rule
below is a whole-line pattern, so an article sentence that only uses the same words ("The
council will read more than 300 letters") is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LineRule:
    """One kind of boilerplate line: a pattern matched against the whole (stripped) line."""

    name: str
    pattern: re.Pattern[str]
    max_words: int  # a longer line is prose that happens to match, and is kept


def _rule(name: str, pattern: str, max_words: int) -> LineRule:
    return LineRule(name, re.compile(pattern, re.IGNORECASE), max_words)


_TEASER_LABELS = (
    r"read\s+(?:more|next|also)|also\s+read|related(?:\s+(?:story|article|coverage))?|see\s+also|more"
    r"|timeline|watch|video|listen|podcast|photos?|gallery|in\s+pictures|live|explainer|opinion|analysis"
)
_CREDITS = r"getty\s+images|ap\s+photo|afp(?:\s+via\s+getty)?|reuters|shutterstock|epa(?:-efe)?|alamy|pa\s+images"
RULES: tuple[LineRule, ...] = (
    # "Read more: Coastal towns fight ...", "TIMELINE: A century of ...", "WATCH: ..."
    _rule("teaser", rf"(?:{_TEASER_LABELS})\s*[:|»›>]\s*\S.*", 25),
    # "Sign up for our free morning newsletter ...", "Subscribe to our newsletter"
    _rule(
        "newsletter",
        r"(?:sign\s+up|subscribe|get|join|register)\b.{0,80}\b(?:newsletters?|inbox|e-?mail\s+(?:updates|alerts)|"
        r"briefing)\b.*",
        40,
    ),
    _rule(
        "subscribe",
        r"(?:subscribe|subscribers?\s+only|already\s+a\s+subscriber\??|log\s+in\s+to\s+continue).{0,60}",
        12,
    ),
    # a URL alone on its line
    _rule("url", r"[(<\[]?(?:https?://|www\.)\S+[)>\]]?", 1),
    # "Photo: Jo Reyes/AP", "(Photo by X/Getty Images)", "Image credit: ..."
    _rule("caption", r"[(\[]?(?:photos?|photograph|picture|image|caption|credit)(?:\s+(?:by|credit))?\s*[:|].*", 40),
    _rule("credit", rf".*\b(?:{_CREDITS})\b\s*(?:/\s*[\w .'-]+)?[)\]]?", 40),
)


def boilerplate_rule(line: str) -> str:
    """The name of the rule that makes ``line`` boilerplate, or "" for an article line.

    Example:
        >>> boilerplate_rule("Read more: Coastal towns fight to keep their lighthouses open")
        'teaser'
        >>> boilerplate_rule("The council will read more than 300 letters before it votes.")
        ''
    """
    core = line.strip()
    if not core:
        return ""
    words = len(core.split())
    for rule in RULES:
        if words <= rule.max_words and rule.pattern.fullmatch(core):
            return rule.name
    return ""


def drop_boilerplate_lines(text: str) -> str:
    """``text`` without its boilerplate lines (see ``RULES``); blank-line runs collapsed, stripped."""
    kept = [line for line in text.split("\n") if not boilerplate_rule(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
