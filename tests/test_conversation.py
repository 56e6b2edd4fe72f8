"""Follow-up rewriting: history + question -> standalone question (rules, no model)."""

from __future__ import annotations

import pytest

from qa.conversation import mentions, standalone_question
from qa.records import Turn

LAVROV_ANSWER = (
    "The Russian Foreign Ministry, in a statement today, said that Lavrov affirmed during the meeting in Moscow "
    "yesterday “Russia’s principled position in support for an urgent ceasefire.”"
)
MET_ANSWER = (
    "Russian Foreign Minister Sergey Lavrov met with the heads of diplomatic missions of Arab countries "
    "accredited in Moscow."
)
FIRST = [Turn("What did Lavrov call for?", LAVROV_ANSWER)]
DROUGHT = [
    Turn(
        "What happened to wheat farmers?",
        "Wheat farmers lost half of their harvest. The agriculture minister, Tomas Brandt, called for emergency loans.",
    )
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who did he meet?", "Who did Lavrov meet?"),
        ("What was his position?", "What was Lavrov’s position?"),
        ("Did anyone criticise him?", "Did anyone criticise Lavrov?"),
        ("And the Arab diplomats?", "What did the Arab diplomats call for?"),
        ("What about the Arab diplomats?", "What did the Arab diplomats call for?"),
        ("What else?", "What else did Lavrov call for?"),
        ("When?", "When did Lavrov call for it?"),
        ("What did the minister say?", "What did Lavrov say?"),
        ("Who was there?", "Who was in Moscow?"),
    ],
)
def test_follow_ups_after_the_lavrov_question(question: str, expected: str) -> None:
    assert standalone_question(FIRST, question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What did the Arab diplomats say?",
        "Who did Lavrov meet?",
        "Did Lavrov say he supports a ceasefire?",  # "he" is Lavrov, named in the question itself
        "Was there a vote in the Security Council?",  # existential "there"
        "Is it true that Russia called for a ceasefire?",  # expletive "it"
        "Really?",
        "What did the health minister say?",  # a minister nobody mentioned
    ],
)
def test_questions_that_need_nothing_stay_unchanged(question: str) -> None:
    assert standalone_question(FIRST, question) == question


def test_no_history_means_no_rewrite() -> None:
    assert standalone_question([], "Who did he meet?") == "Who did he meet?"
    assert standalone_question([Turn("   ")], "Who did he meet?") == "Who did he meet?"


def test_whitespace_is_normalised() -> None:
    assert standalone_question([], "  What did   Lavrov\ncall for? ") == "What did Lavrov call for?"


def test_they_resolves_to_the_group_in_the_previous_answer() -> None:
    history = [*FIRST, Turn("Who did he meet?", MET_ANSWER)]
    assert standalone_question(history, "What did they say?") == (
        "What did the heads of diplomatic missions of Arab countries say?"
    )


def test_chained_follow_ups_resolve_through_earlier_rewrites() -> None:
    # "When?" completes the previous question as rewritten ("Who did Lavrov meet?"), not as asked.
    history = [*FIRST, Turn("Who did he meet?", MET_ANSWER)]
    assert standalone_question(history, "When?") == "When did Lavrov meet?"
    assert standalone_question(history, "And the Arab diplomats?") == "Who did the Arab diplomats meet?"


def test_the_minister_takes_the_name_its_title_is_attached_to() -> None:
    assert standalone_question(DROUGHT, "What did the minister call for?") == "What did Tomas Brandt call for?"
    assert standalone_question(DROUGHT, "What did the agriculture minister say?") == "What did Tomas Brandt say?"
    history = [*FIRST, Turn("Who did he meet?", MET_ANSWER)]
    assert standalone_question(history, "What did the foreign minister stress?") == "What did Sergey Lavrov stress?"


def test_pronoun_at_the_start_keeps_a_capital() -> None:
    history = [Turn("Who met the Arab diplomats?", "Lavrov did.")]
    assert standalone_question(history, "They said what?") == "The Arab diplomats said what?"


def test_mentions_find_names_places_and_plural_phrases() -> None:
    found = mentions("What did Lavrov say to the Arab diplomats in Moscow?")
    assert [(m.text, m.kind) for m in found] == [
        ("Lavrov", "person"),
        ("the Arab diplomats", "group"),
        ("Moscow", "place"),
    ]
    assert mentions(MET_ANSWER)[0].text == "Sergey Lavrov"  # the title is not part of the name
    assert [m.text for m in mentions("Really?")] == []


def test_rewrite_is_deterministic_and_pure() -> None:
    history = list(FIRST)
    first = standalone_question(history, "Who did he meet?")
    assert standalone_question(history, "Who did he meet?") == first
    assert history == FIRST
