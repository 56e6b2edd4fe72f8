"""Follow-up questions: conversation history + question -> standalone question.

(First version: the question as asked. The follow-up rewriting is being built.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.assistant import Turn


def standalone_question(history: Sequence[Turn], question: str) -> str:
    return question
