"""Text at the doors: str -> str that can be printed and sent (valid Unicode; for terminals, no controls)."""

from __future__ import annotations

import re

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so that it encodes as UTF-8.

    Lone surrogates are how Python keeps bytes that were not UTF-8 (a command-line argument
    decoded with ``surrogateescape``) and what a JSON ``"\\ud800"`` decodes to.

    Example:
        >>> valid_unicode("caf\\udce9?") == "caf\\ufffd?"
        True
    """
    return _SURROGATE.sub("\ufffd", text)


# terminal escape sequences (CSI: colours, cursor, clear; OSC: window title, links; up to their
# terminator), then any other C0 control but tab and newline, DEL and the C1 controls
_TERMINAL_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def terminal_safe(text: str) -> str:
    """``text`` as a terminal may print it: escape sequences and control characters removed (but
    tabs and newlines), lone surrogates as U+FFFD; an article's title cannot retitle or clear the
    user's terminal.

    Example:
        >>> terminal_safe("Ferry \\x1b]0;pwned\\x07line \\x1b[31mopens\\x07")
        'Ferry line opens'
    """
    return valid_unicode(_TERMINAL_CONTROL.sub("", text))
