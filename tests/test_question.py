"""The question understood once: the answer type it asks for, the sentence that asks, what letters stand for."""

from __future__ import annotations

import pytest

from qa.question import Question, asking_sentence, type_phrase
from qa.spans import expansion


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who won the election?", "person"),
        ("Where was the summit held?", "place"),
        ("In which country did the fire break out?", "place"),
        ("When did the bridge reopen?", "time"),
        ("How many people were hurt?", "number"),
        ("Which airline cancelled flights?", "entity"),
        ("What is the name of the new vaccine?", "entity"),
        ("What did the minister call for?", "speech"),
        ("What did Lavrov stress?", "speech"),
        ("Why did the talks fail?", "other"),
        ("What does NATO stand for?", "expansion"),
        ("Markets rose after the Fed spoke. What does “Fed” stand for?", "expansion"),
        ("What does the party stand for?", "other"),  # values, not letters
    ],
)
def test_question_types(question: str, kind: str) -> None:
    assert Question.parse(question).kind == kind


@pytest.mark.parametrize(
    ("question", "asking"),
    [
        ("Who is he? Answer in one word.", "Who is he?"),
        ("What did Lavrov call for?", "What did Lavrov call for?"),
        ("The U.S. Senate voted on Monday. Which bill passed", "Which bill passed"),
    ],
)
def test_asking_sentence_is_the_last_question(question: str, asking: str) -> None:
    assert asking_sentence(question) == asking


@pytest.mark.parametrize(
    ("letters", "sentence", "name"),
    [
        (
            "CBP",
            "On Monday, U.S. Customs and Border Protection opened two new lanes at the bridge.",
            "Customs and Border Protection",
        ),
        ("DOGE", "Musk led the Department of Government Efficiency for months.", "Department of Government Efficiency"),
        ("Met", "Stars arrived at the Metropolitan Museum of Art on Monday.", "Metropolitan Museum of Art"),
        ("NATO", "The North Atlantic Treaty Organization met in Brussels.", "North Atlantic Treaty Organization"),
        ("NATO", "NATO allies met in Brussels.", None),  # the letters themselves
        ("Met", "Meta Platforms said on Monday.", None),  # "Meta" is not a longer word for "Met"
        ("UN", "The united nations said so.", None),  # not a name
        ("CBP", "Customs, Border and Protection rules changed.", None),  # the name ends at a comma
    ],
)
def test_expansion_spells_the_letters_out(letters: str, sentence: str, name: str | None) -> None:
    assert expansion(letters, sentence) == name


@pytest.mark.parametrize(
    ("asking", "phrase"),
    [
        ("Which drug will the Port Ellis clinic stop prescribing?", "drug"),
        ("Which type of virus was found in the harbour water?", "type of virus"),
        ("What beverage is the chain adding to its menu?", "beverage"),
        ("Which former world leader died this week?", "former world leader"),
        ("In which city was the treaty signed?", "city"),
        ("Which bakery's owner won the prize?", "owner won"),  # after a possessive: the owner
        ("Which of the following people did the club hire?", "people"),
        ("Which of the two mayors won?", ""),  # no noun right after the question word
        ("Which U.S. state banned the dye?", "U.S. state banned"),  # abbreviations stay whole
        ("Which St. Louis team won?", "St. Louis team"),
        ("What happened to the ferry?", ""),  # after "what", a verb asks for no type
        ("WHAT HAPPENED TO THE FERRY?", ""),
        ("What probably caused the fire?", ""),
        ("Who won the election?", ""),
        ("What did the minister call for?", ""),
    ],
)
def test_type_phrase_names_what_a_which_question_asks_for(asking: str, phrase: str) -> None:
    assert type_phrase(asking) == phrase
    assert Question.parse(f"The council met. {asking}").type_phrase == phrase  # from the sentence that asks
