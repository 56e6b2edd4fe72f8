"""newsqa answering: load an index, ask questions, get verified quoted answers. Imports index only."""

from qa.assistant import Assistant, Turn, load_assistant
from qa.records import Answer, Citation, Filters, Passage, Quote
from qa.settings import QASettings

__all__ = ["Answer", "Assistant", "Citation", "Filters", "Passage", "QASettings", "Quote", "Turn", "load_assistant"]
