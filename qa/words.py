"""Word lists and surface patterns of English news, one name each (data, no logic).

Every module of the answer step takes its words from here: the speech verbs, the months
and days, the words that are never names, the nouns that say what kind of name a
"which <noun>" question wants. Two patterns that look alike but do different jobs have
different names: ``NAME_RUN`` (a whole capitalised name, cut as an answer) and
``NAME_WORD`` (one capitalised word inside a sentence, a cheap sign that a name is there).
"""

from __future__ import annotations

import re

MONTHS = "January February March April May June July August September October November December".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTH_ABBREVIATIONS = "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()

# words that are never a name on their own: function words, titles, roles, days and months
NOT_NAMES = frozenset(
    """
    the a an in on at by for from to of and but or if as it its he she they we i you his her their
    our this that these those there here when where what which who why how after before during while
    since mr mrs ms dr president sen rep gov gen prime minister officials police according however
    mayor governor senator secretary ambassador chancellor coach captain chairman chairwoman director
    judge spokesman spokeswoman spokesperson lawmaker also
    """.split()
    + [w.lower() for w in WEEKDAYS + MONTHS + MONTH_ABBREVIATIONS]
)
QUESTION_WORDS = (
    "who whom what which when where why how did does do has have had will would could should is was".split()
)
SMALL_WORDS = frozenset("a an the of in on at to for and or but with from by is are as".split())  # inside titles
NAME_CONNECTORS = frozenset("of and for the de du la &".split())  # inside a name an acronym spells out

# a capitalised name: "Venezuela", "Corpus Christi", "King Charles III", "TSA PreCheck",
# "Bank of England", "Nicolás Maduro"; joined by a few lower-case particles
NAME_RUN = re.compile(
    r"(?:[A-Z][\w'’&.-]*|\d+[A-Za-z]+)(?:\s+(?:(?:of|de|del|da|la|le|al|bin|van|von|the|&)\s+)?(?:[A-Z][\w'’&.-]*|[IVX]+\b))*"
)
# one capitalised word that does not open a sentence: a sign that the sentence names someone or something
NAME_WORD = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’-]+")

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = "|".join(WEEKDAYS)
# a date or time said in a sentence: "March 3, 2026", "Monday morning", "in 1989", "last week", "9 a.m."
TIME_SPAN = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{4}}|"
    rf"(?:{_DAY})(?:\s+(?:morning|afternoon|evening|night))?|"
    r"(?:in|since|by)\s+(?:18|19|20)\d\d|(?:last|next|this)\s+(?:week|month|year|spring|summer|fall|autumn|winter)|"
    r"yesterday|\d{1,2}(?::\d\d)?\s*(?:a\.m\.|p\.m\.))",
)
# any word of time in a sentence (a month, a day, "yesterday", a year): a sign that it dates something
TIME_WORD = re.compile(
    rf"\b({'|'.join(m.lower() for m in MONTHS)}|{_DAY.lower()}|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|yesterday|today|tonight|last (week|month|year)|(1[89]|20)\d\d)\b",
    re.I,
)
# a number (digits or words, with its scale: "$3 million", "40%"); NUMBER_SPAN takes the word after it too
_DIGITS = r"(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s*(?:%|percent|million|billion|trillion|thousand|hundred))?"
_NUMERALS = (
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|dozens?|hundreds|thousands|millions)\b(?:\s+(?:million|billion|thousand|hundred))?"
)
NUMBER_SPAN = re.compile(
    rf"{_DIGITS}(?:\s+(?!(?:and|or|of|in|on|at|to|the|a|an|for)\b)[a-z]+)?|{_NUMERALS}(?:\s+[a-z]+)?", re.I
)
NUMBER_CORE = re.compile(rf"{_DIGITS}|{_NUMERALS}", re.I)  # "five golds" and "five as" vote for "five"
# any sign of a quantity in a sentence
NUMBER_WORD = re.compile(
    r"[$€£]\s?\d|\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|half|percent)\b",
    re.I,
)
YEAR = re.compile(r"(?:19|20)\d\d\b(?![,.]\d)")
PAST_TIME = re.compile(r"yesterday|last\b", re.I)

SPEECH_VERB = re.compile(
    r"\b(?:called|calls|calling)\s+(?:for|on)\b|\b(?:urged?|urging|demand(?:ed|s)?|said|says|stressed|affirmed|"
    r"announced|warned|proposed|insisted|argued|asked|told|added|noted|promised|vowed|pledged|expressed|voiced|"
    r"praised|critici[sz]ed|condemned|rejected|welcomed|reiterated|emphasi[sz]ed|accused|denied|confirmed|"
    r"acknowledged|explained|stated|declared|described|suggested|wrote|tweeted|posted)\b",
    re.I,
)
# the verbs a "what did X say / call for / stress ..." question asks with (present tense, as asked)
ASKING_SPEECH_VERBS = (
    r"say|said|saying|call|urge|demand|stress|affirm|propose|announce|warn|tell|argue|insist|promise|pledge|vow|"
    r"ask|claim|suggest|express|think|want"
)
QUOTED_SPEECH = re.compile(r"[“\"]([^”\"]{12,600})[”\"]")  # the words said, in quotation marks
QUOTED_TITLE = re.compile(r"[“\"]([A-Z][^”\"]{0,60}?)[,.]?[”\"]")  # a title: "Death of a Salesman"
WORKS = re.compile(
    r"\b(?:film|movie|song|album|book|novel|memoir|show|series|play|musical|painting|opera|documentary|title)s?\b", re.I
)

# "which <noun>": the nouns that say what kind of name answers, with the entity labels they want
PERSON_NOUNS = frozenset(
    """
    person man woman actor actress singer star rapper musician artist author writer poet director
    host presenter comedian athlete player golfer footballer quarterback pitcher boxer champion
    coach manager leader politician president senator governor mayor minister official lawmaker
    candidate judge economist scientist billionaire businessman celebrity journalist chef
    """.split()
)
NOUN_LABELS: list[tuple[frozenset[str], frozenset[str]]] = [
    (PERSON_NOUNS, frozenset({"PERSON"})),
    # a city is not a river ("LOC") or a building ("FAC")
    (frozenset("city town country nation state province capital village county".split()), frozenset({"GPE"})),
    (frozenset("island region area territory".split()), frozenset({"GPE", "LOC"})),
    (frozenset("school college university hospital museum".split()), frozenset({"ORG", "FAC"})),
    (
        frozenset("film movie song album book novel show series play musical painting opera".split()),
        frozenset({"WORK_OF_ART", "PRODUCT", "ORG", "EVENT"}),
    ),
    (frozenset("company firm team club airline party agency bank network brand league".split()), frozenset({"ORG"})),
    (
        frozenset("stadium arena venue site landmark building castle palace bridge airport monument temple".split()),
        frozenset({"FAC"}),
    ),
    (
        frozenset("holiday celebration festival championship tournament war storm hurricane".split()),
        frozenset({"EVENT", "ORG"}),
    ),
]
# "which virus", "which resource": a common noun answers, not a name
THINGS = frozenset(
    """
    virus disease condition illness parasite resource topic issue substance drug animal species
    food drink beverage sport color colour material
    """.split()
)
