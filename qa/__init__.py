"""newsqa answering: load an index, ask questions, get verified quoted answers. Imports index only."""

from qa.assistant import Assistant, load_assistant, resolve_today
from qa.errors import EmptyQuestionError, QuestionError, QuestionTooLongError
from qa.records import Answer, Citation, Filters, Passage, Quote, Turn
from qa.settings import QASettings

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "EmptyQuestionError",
    "Filters",
    "Passage",
    "QASettings",
    "QuestionError",
    "QuestionTooLongError",
    "Quote",
    "Turn",
    "load_assistant",
    "resolve_today",
]
