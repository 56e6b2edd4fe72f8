"""The errors users can cause: one base class, a few subclasses. Messages say what and where."""

from __future__ import annotations


class NewsQAError(Exception):
    """Base class of every error newsqa raises on purpose."""


class BadInputError(NewsQAError):
    """An input file or record cannot be turned into an article (the message names it)."""


class IndexNotFoundError(NewsQAError):
    """No index exists at the given path."""


class IndexMismatchError(NewsQAError):
    """The index was built with other settings (embedder, format) than the ones in use."""


class CorruptIndexError(NewsQAError):
    """An index file is missing, truncated or altered."""


class SettingsError(NewsQAError):
    """A setting has a value that cannot work."""
