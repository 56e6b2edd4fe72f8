"""The errors a question can cause (``NewsQAError`` subclasses, so every door catches them as before)."""

from __future__ import annotations

from index.errors import NewsQAError


class QuestionError(NewsQAError):
    """The question cannot be answered as given (the message says why and what to do)."""


class EmptyQuestionError(QuestionError):
    """The question is empty or whitespace only."""


class QuestionTooLongError(QuestionError):
    """The question is longer than ``qa.assistant.MAX_QUESTION_CHARS`` characters."""
