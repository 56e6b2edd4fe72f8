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
