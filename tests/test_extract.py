"""Question types and short-answer extraction from sentences (pure rules, hand-made cases)."""

from __future__ import annotations

import pytest

from index.store.keyword import KeywordIndex
from qa.extract import Evidence, extract
from qa.kinds import has_answer_of_type
from qa.question import Question
from qa.spans import name_spans, words_of

VOCABULARY = KeywordIndex.build([])


def _stem(word: str) -> str:
    terms = KeywordIndex.build([]).terms(word)
    return terms[0] if terms else ""


def _one(question: str, sentence: str, *more: str) -> str | None:
    evidence = [Evidence(sentence, 1.0), *(Evidence(s, 0.9) for s in more)]
    return extract(Question.parse(question, None, VOCABULARY), evidence, _stem)


def test_place_prefers_a_name_after_a_location_word() -> None:
    assert _one("Where did the Arab envoys meet Lavrov?", "Arab envoys met Lavrov in Moscow on Monday.") == "Moscow"


def test_names_from_the_question_are_never_the_answer() -> None:
    assert _one("Which company did Tesla overtake?", "BYD overtook Tesla in electric car sales.") == "BYD"
    # a hyphenated name is the question's when the question has its parts
    asked = words_of("Andrew Mountbatten Windsor was arrested. Who is his older brother?")
    spans = name_spans("King Charles III is the older brother of Mountbatten-Windsor.", asked, "person")
    assert [span for span, _ in spans] == ["King Charles III"]


def test_later_sentences_vote_for_a_name() -> None:
    answer = _one(
        "Which country hosted the games?",
        "The games opened with Italy and France in the stands.",
        "France hosted the games.",
        "Organizers in France said they were pleased.",
    )
    assert answer == "France"


def test_a_surname_votes_for_the_full_name_it_shortens() -> None:
    """News names a person in full once, then by surname: the answer is the full name."""
    evidence = [
        Evidence("Whitfield said the new ferry would carry 400 passengers a day.", 0.86),
        Evidence("Mayor Dana Whitfield opened the ferry line to Gull Island on Monday.", 0.85),
        Evidence("Whitfield thanked the harbor crews.", 0.84),
        Evidence("The ferry captain, Tomas Brandt, sounded the horn.", 0.84),
    ]
    assert extract(Question.parse("Who opened the ferry line?", None, VOCABULARY), evidence, _stem) == "Dana Whitfield"


def test_a_possessive_is_not_part_of_the_name() -> None:
    assert _one("Whose plan did the council approve?", "The council approved Whitfield's plan on Tuesday.") == (
        "Whitfield"
    )


def test_a_film_question_takes_the_title_in_quotation_marks() -> None:
    """ "Death of a Salesman" is not one capitalised run of words; its quotation marks say where it ends."""
    answer = _one(
        "Which play won Best Revival at the Tony Awards?",
        "“Death of a Salesman” won Best Revival of a Play, director John Doyle said on stage.",
    )
    assert answer == "Death of a Salesman"
    # a quoted remark is not a title
    assert _one("Which film did the critics praise?", "Critics said “we loved it” about Harbor Lights.") == (
        "Harbor Lights"
    )


def test_number_with_the_counted_noun_wins() -> None:
    sentence = "The council voted 7 to 2 on Tuesday to build twelve miles of bike lanes."
    assert _one("How many miles of bike lanes will be built?", sentence) == "twelve miles"


def test_votes_for_a_number_add_up_whatever_word_follows_it() -> None:
    """ "four distance", "four as" and "four golds" are three votes for "four", which beats the
    "500" of the best sentence; shown without a word that is not the counted noun."""
    question = "Skater Ola Brenn set a record in 1988. How many golds did she win?"
    best = "At the winter games, Brenn won gold in the 500m, becoming the first to win all four distance events."
    others = ["Brenn famously won four as she swept the events.", "No skater has matched her four golds."]
    assert _one(question, best, *others) == "four"
    assert _one("How high did the ash go?", "The ash rose four miles high.") == "four miles"  # a unit stays


def test_a_year_is_rarely_the_count_asked_for() -> None:
    best = "The 2027 tournament starts in June in Lyon."
    assert _one("How many nations will take part?", best, "In all, 48 nations will take part.") == "48 nations"


def test_time_spans() -> None:
    assert _one("When did the museum reopen?", "The museum reopened on March 3, 2026 after repairs.") == "March 3, 2026"


def test_speech_takes_the_quoted_words_else_the_clause_after_the_verb() -> None:
    quoted = "Lavrov stressed the need to “intensify international efforts for peace talks.”"
    assert _one("What did Lavrov stress?", quoted) == "intensify international efforts for peace talks."
    plain = "The agriculture minister, Tomas Brandt, called for emergency loans. Farmers agreed."
    assert _one("What did the agriculture minister call for?", plain) == "emergency loans"


def test_object_questions_take_the_phrase_after_the_last_question_word() -> None:
    sentence = "Lavrov met with the heads of diplomatic missions of Arab countries, the ministry said."
    assert _one("Who did Lavrov meet?", sentence) == "the heads of diplomatic missions of Arab countries"
    # the question that asks is the last one: a scene set before it changes nothing
    assert (
        _one("Lavrov hosted envoys. Who did Lavrov meet?", sentence)
        == "the heads of diplomatic missions of Arab countries"
    )


@pytest.mark.parametrize(
    "question",
    ["Who had the longest speech at the summit?", "Who has tied the bill to the budget?", "Who will want to speak?"],
)
def test_who_as_the_subject_is_answered_by_a_name(question: str) -> None:
    """After has / had / will, a verb or an object (not a subject) means "who" did it: a name."""
    sentence = "In Lyon, Mara Ellison gave the longest speech at the summit and tied the bill to the budget."
    assert _one(question, sentence) == "Mara Ellison"


def test_nothing_to_extract_gives_none() -> None:
    assert _one("Why did the talks fail?", "The talks failed over wages.") is None
    assert _one("Who won?", "nobody here is capitalised after the start.") is None
    assert extract(Question.parse("Who won?"), []) is None


def test_what_letters_stand_for_is_answered_by_the_name_they_abbreviate() -> None:
    question = "Markets rose after the Fed spoke on Monday. What does “Fed” stand for?"
    letters = Question.parse(question).letters
    assert letters == "Fed"
    repeats = "The Fed kept its rates where they were."
    spells = "Officials at the Federal Reserve said inflation was slowing."
    assert _one(question, repeats, spells) == "Federal Reserve"
    # the sentence that spells it out gets the answer-type bonus; the one that only repeats it, none
    words = words_of(question)
    assert has_answer_of_type("expansion", spells, words, letters)
    assert not has_answer_of_type("expansion", repeats, words, letters)
    assert _one("What is U.N. short for?", "The United Nations met.") == "United Nations"
    assert _one("What does NATO stand for?", "NATO allies met in Brussels.") is None
