"""Vocabulary of the built-in treebank grammar, with the few selectional classes that keep
generated sentences sensible ("the dog eats the apple", not "the apple eats the dog").

Classes: ``person``, ``animal``, ``food``, ``object``, ``place``, ``text``; ``animate`` means
person or animal and ``thing`` means object, food or text. Written for this project.
"""

from __future__ import annotations

from dataclasses import dataclass

ANIMATE = frozenset({"person", "animal"})
THING = frozenset({"object", "food", "text"})
ALL = frozenset({"person", "animal", "food", "object", "place", "text"})


@dataclass(frozen=True)
class Noun:
    lemma: str
    plural: str | None  # None: a mass noun (no plural, no "a")
    classes: frozenset[str]


@dataclass(frozen=True)
class Verb:
    lemma: str
    third: str  # 3rd person singular present
    past: str
    participle: str
    ing: str
    subject: frozenset[str]
    object: frozenset[str]  # empty when the verb takes no object
    frames: str  # t transitive, i intransitive, d ditransitive, x to-infinitive (xcomp), c that-clause (ccomp)


def _nouns(spec: str) -> list[Noun]:
    """Lines ``class: lemma[/plural] ...``; ``/-`` marks a mass noun, ``+class`` adds a class."""
    nouns = []
    for line in spec.strip().splitlines():
        cls, words = line.split(":")
        for entry in words.split():
            entry, *extra = entry.split("+")
            lemma, _, plural = entry.partition("/")
            plural_form = None if plural == "-" else plural or lemma + ("es" if lemma.endswith(("s", "sh", "ch", "x")) else "s")
            nouns.append(Noun(lemma, plural_form, frozenset({cls.strip(), *extra})))
    return nouns


NOUNS = _nouns(
    """
    person: teacher farmer doctor child/children student baker woman/women man/men girl boy neighbour driver artist writer friend nurse sailor pilot
    animal: dog cat horse bird mouse/mice rabbit cow fox duck sheep/sheep goat owl frog bear
    food: apple bread/- cake soup/- cheese/- banana cookie egg orange sandwich pie carrot
    object: box key ball cup chair table lamp door window bag hat picture bottle basket blanket coat umbrella car bike boat
    text: book+object letter+object story/stories note+object poem newspaper+object
    place: garden park kitchen house river school market forest city/cities village room shop field station hill lake
    """
)

PROPER_NOUNS = ("Anna", "Tom", "Maria", "Sam", "Lucy", "Peter", "Emma", "David")

_VERBS = """
eat eats ate eaten eating | animate | food | ti
see sees saw seen seeing | animate | person animal food object place text | t
watch watches watched watched watching | animate | person animal object | t
like likes liked liked liking | animate | person animal food object place text | tx
find finds found found finding | animate | animal food object text | t
carry carries carried carried carrying | animate | food object text | t
buy buys bought bought buying | person | food object text | td
paint paints painted painted painting | person | object place | ti
build builds built built building | person | object | t
read reads read read reading | person | text | ti
write writes wrote written writing | person | text | tid
chase chases chased chased chasing | animate | animal person | t
follow follows followed followed following | animate | animal person | t
open opens opened opened opening | person | object | t
clean cleans cleaned cleaned cleaning | person | object place | t
visit visits visited visited visiting | person | person place | t
hold holds held held holding | person | animal food object text | t
bring brings brought brought bringing | person | food object text | td
give gives gave given giving | person | food object text | d
send sends sent sent sending | person | object text | d
show shows showed shown showing | person | object text | td
sleep sleeps slept slept sleeping | animate | - | i
run runs ran run running | animate | - | i
walk walks walked walked walking | animate | - | i
laugh laughs laughed laughed laughing | person | - | i
wait waits waited waited waiting | animate | - | i
swim swims swam swum swimming | animate | - | i
arrive arrives arrived arrived arriving | animate | - | i
sing sings sang sung singing | animate | - | i
work works worked worked working | person | - | i
play plays played played playing | animate | - | i
want wants wanted wanted wanting | animate | food object text | tx
try tries tried tried trying | animate | - | x
hope hopes hoped hoped hoping | person | - | xc
decide decides decided decided deciding | person | - | x
need needs needed needed needing | animate | food object | tx
forget forgets forgot forgotten forgetting | person | object text | tx
say says said said saying | person | - | c
think thinks thought thought thinking | person | - | c
know knows knew known knowing | person | person place | tc
believe believes believed believed believing | person | - | c
notice notices noticed noticed noticing | person | person animal object | tc
"""


def _verbs(spec: str) -> list[Verb]:
    verbs = []
    for line in spec.strip().splitlines():
        forms, subject, obj, frames = (part.strip() for part in line.split("|"))
        lemma, third, past, participle, ing = forms.split()
        subj = ANIMATE if subject == "animate" else frozenset(subject.split())
        objects = frozenset() if obj == "-" else frozenset(obj.split())
        verbs.append(Verb(lemma, third, past, participle, ing, subj, objects, frames))
    return verbs


VERBS = _verbs(_VERBS)
STATIVE_VERBS = frozenset({"like", "know", "believe", "want", "need", "see"})  # no progressive: not "is needing"

# adjective -> the noun classes it sensibly modifies
ADJECTIVES: dict[str, frozenset[str]] = {
    **{a: ALL - {"text"} for a in ("big", "small", "old", "little", "quiet", "strange", "lovely", "famous")},
    **{a: ANIMATE for a in ("happy", "hungry", "tired", "clever", "friendly", "lazy", "brave", "angry", "young", "kind")},
    **{a: THING | {"place"} for a in ("new", "red", "green", "blue", "yellow", "empty", "dark", "bright", "clean")},
    **{a: frozenset({"object", "text"}) for a in ("heavy", "broken", "wooden")},
    **{a: frozenset({"food"}) for a in ("fresh", "sweet", "warm", "ripe", "delicious", "cold")},
}

MANNER_ADVERBS = (
    "quickly", "slowly", "quietly", "happily", "carefully", "loudly", "suddenly", "gently", "eagerly", "calmly",
    "badly", "politely",
)  # fmt: skip
FREQUENCY_ADVERBS = ("often", "always", "never", "sometimes")  # function words: kept in the nonce variant
DEGREE_ADVERBS = ("very", "really", "quite")  # function words

LOCATIVE_PREPOSITIONS = ("in", "near", "under", "behind", "at", "beside")
NOUN_PREPOSITIONS = ("in", "on", "near", "with", "from")
MODALS = ("can", "could", "should", "might", "must", "will")
SUBORDINATORS = ("because", "if", "although", "after", "before", "while", "since", "until")
NUMBERS = ("two", "three", "four", "five")
SINGULAR_DETERMINERS = ("the", "the", "the", "a", "a", "this", "that", "every")
PLURAL_DETERMINERS = ("the", "the", "these", "those", "some", "many")
POSSESSIVES = ("my", "his", "her", "their", "our", "your")
SUBJECT_PRONOUNS = {"I": ("sg", 1), "you": ("pl", 2), "he": ("sg", 3), "she": ("sg", 3), "we": ("pl", 1), "they": ("pl", 3)}
OBJECT_PRONOUNS = ("me", "you", "him", "her", "us", "them")
