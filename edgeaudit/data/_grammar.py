"""The grammar behind ``builtin:treebank``: seeded random choices that build words with UD heads.

Each builder returns a :class:`Phrase` — its words in surface order and its head — with every
dependent already attached to its head and labelled, so a sentence is a tree by construction.
Conventions follow UD English (Universal Dependencies v2; de Marneffe et al. 2021): function words
(determiners, case markers, auxiliaries, copulas, subordinators) depend on content heads, the comma
before a conjunct attaches to that conjunct, and the comma after a fronted adverbial clause to its
predicate. Written for this project.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from edgeaudit.data import _grammar_lexicon as lex

T = TypeVar("T")


@dataclass(eq=False)
class Word:
    """A generated word; ``lemma`` + ``inflection`` let the nonce variant re-spell it."""

    form: str
    lemma: str
    upos: str
    inflection: str = ""  # "", pl, 3sg, past, pp, ing, ly, cap
    content: bool = False  # replaced by a non-word in the nonce variant
    head: Word | None = None
    relation: str = "root"


def _attach(dependent: Word, head: Word, relation: str) -> Word:
    dependent.head, dependent.relation = head, relation
    return dependent


def _fn(form: str, upos: str) -> Word:
    """A function word (kept in the nonce variant)."""
    return Word(form, form.lower(), upos)


@dataclass
class Phrase:
    words: list[Word]
    head: Word
    number: str = "sg"  # agreement of a noun phrase: sg / pl
    person: int = 3
    classes: frozenset[str] = lex.ALL  # selectional classes of a noun phrase


def _be(subject: Phrase, *, past: bool) -> str:
    if subject.number == "sg" and subject.person in (1, 3):
        return "was" if past else "am" if subject.person == 1 else "is"
    return "were" if past else "are"


class Grammar:
    """Random choices over the lexicon; one instance per generated corpus (seeded)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    # ---- noun phrases -------------------------------------------------------------------------------
    def noun_phrase(self, classes: frozenset[str], *, role: str = "obj", modifiers: bool = True) -> Phrase:
        """A noun phrase for a noun in ``classes``; ``role`` "subj"/"obj" allows that pronoun case."""
        if "person" in classes and role in ("subj", "obj") and self.chance(0.12):
            if role == "subj":
                pronoun = self.pick(sorted(lex.SUBJECT_PRONOUNS))
                number, person = lex.SUBJECT_PRONOUNS[pronoun]
                word = _fn(pronoun, "PRON")
                return Phrase([word], word, number, person, frozenset({"person"}))
            word = _fn(self.pick(lex.OBJECT_PRONOUNS), "PRON")
            return Phrase([word], word, classes=frozenset({"person"}))
        if "person" in classes and self.chance(0.1):
            name = self.pick(lex.PROPER_NOUNS)
            word = Word(name, name, "PROPN", "cap", content=True)
            return Phrase([word], word, classes=frozenset({"person"}))
        noun = self.pick([n for n in lex.NOUNS if n.classes & classes])
        plural = noun.plural is not None and self.chance(0.3)
        head = Word(noun.plural if plural else noun.lemma, noun.lemma, "NOUN", "pl" if plural else "", content=True)
        words = self._determiner(noun, plural, head)
        if modifiers:
            words += self._adjectives(noun, head)
        words.append(head)
        if modifiers and self.chance(0.15):
            words += self._noun_modifier(head)
        return Phrase(words, head, "pl" if plural else "sg", 3, noun.classes)

    def _determiner(self, noun: lex.Noun, plural: bool, head: Word) -> list[Word]:
        roll = self.rng.random()
        if roll < 0.12:
            return [_attach(_fn(self.pick(lex.POSSESSIVES), "PRON"), head, "nmod:poss")]
        if plural and roll < 0.25:
            return [_attach(_fn(self.pick(lex.NUMBERS), "NUM"), head, "nummod")]
        if plural and roll < 0.35:
            return []
        choices = lex.PLURAL_DETERMINERS if plural else lex.SINGULAR_DETERMINERS
        if noun.plural is None:  # mass noun: no "a", no "every"
            choices = ("the", "the", "some", "this")
        return [_attach(_fn(self.pick(choices), "DET"), head, "det")]

    def _adjectives(self, noun: lex.Noun, head: Word) -> list[Word]:
        fitting = sorted(a for a, classes in lex.ADJECTIVES.items() if classes & noun.classes)
        words: list[Word] = []
        for _ in range(self.pick((0, 0, 0, 1, 1, 2))):
            adjective = self.pick([a for a in fitting if a not in {w.lemma for w in words}])
            word = _attach(Word(adjective, adjective, "ADJ", content=True), head, "amod")
            if not words and self.chance(0.15):
                words.append(_attach(_fn(self.pick(lex.DEGREE_ADVERBS), "ADV"), word, "advmod"))
            words.append(word)
        return words

    def _noun_modifier(self, head: Word) -> list[Word]:
        """A prepositional modifier of a noun: "the cat [in the garden]" (nmod + case)."""
        preposition = self.pick(lex.NOUN_PREPOSITIONS)
        classes = frozenset({"place"}) if preposition in ("in", "near", "from") else frozenset({"object", "animal"})
        inner = self.noun_phrase(classes, role="none", modifiers=False)
        case = _attach(_fn(preposition, "ADP"), inner.head, "case")
        _attach(inner.head, head, "nmod")
        return [case, *inner.words]

    def argument(self, classes: frozenset[str], role: str) -> Phrase:
        """A subject or object, sometimes coordinated: "X and Y" (conj on X, cc on Y)."""
        first = self.noun_phrase(classes, role=role)
        if first.head.upos == "PRON" or not self.chance(0.1):
            return first
        second = self.noun_phrase(first.classes, role="none", modifiers=False)
        if second.head.lemma == first.head.lemma:  # not "the cup and a cup"
            return first
        conjunction = _attach(_fn(self.pick(("and", "and", "or")), "CCONJ"), second.head, "cc")
        _attach(second.head, first.head, "conj")
        number = "pl" if conjunction.form == "and" else second.number
        return Phrase(first.words + [conjunction] + second.words, first.head, number, 3, first.classes)

    # ---- verbs ---------------------------------------------------------------------------------------
    def verbs(self, frame: str, subject: frozenset[str] | None = None) -> list[lex.Verb]:
        return [v for v in lex.VERBS if frame in v.frames and (subject is None or v.subject & subject)]

    def verb_group(self, verb: lex.Verb, subject: Phrase) -> tuple[list[Word], Word]:
        """Auxiliaries, negation, a frequency adverb and the main verb, agreeing with the subject."""
        third = subject.number == "sg" and subject.person == 3
        roll = self.rng.random()
        pre: list[Word] = []
        if roll < 0.3:
            head = Word(verb.third, verb.lemma, "VERB", "3sg", True) if third else Word(verb.lemma, verb.lemma, "VERB", "", True)
        elif roll < 0.55:
            head = Word(verb.past, verb.lemma, "VERB", "past", True)
        elif roll < 0.65 and verb.lemma not in lex.STATIVE_VERBS:
            head = Word(verb.ing, verb.lemma, "VERB", "ing", True)
            pre.append(_fn(_be(subject, past=self.chance(0.5)), "AUX"))
        elif roll < 0.73:
            head = Word(verb.participle, verb.lemma, "VERB", "pp", True)
            pre.append(_fn("had" if self.chance(0.3) else "has" if third else "have", "AUX"))
        elif roll < 0.88:
            head = Word(verb.lemma, verb.lemma, "VERB", "", True)
            pre.append(_fn(self.pick(lex.MODALS), "AUX"))
        else:
            head = Word(verb.lemma, verb.lemma, "VERB", "", True)
            auxiliary = self.pick(("did", "does" if third else "do", self.pick(lex.MODALS)))
            pre += [_fn(auxiliary, "AUX"), _fn("not", "PART")]
        for word in pre:
            _attach(word, head, "advmod" if word.form == "not" else "aux")
        if self.chance(0.08):
            pre.append(_attach(_fn(self.pick(lex.FREQUENCY_ADVERBS), "ADV"), head, "advmod"))
        return pre, head

    def adjuncts(self, head: Word) -> list[Word]:
        """Optional locative obl ("in the park") and manner advmod ("quickly"), in either order."""
        parts: list[list[Word]] = []
        if self.chance(0.3):
            parts.append(self.prepositional(self.pick(lex.LOCATIVE_PREPOSITIONS), frozenset({"place"}), head, "obl"))
        if self.chance(0.2):
            adverb = self.pick(lex.MANNER_ADVERBS)
            parts.append([_attach(Word(adverb, adverb, "ADV", "ly", True), head, "advmod")])
        self.rng.shuffle(parts)
        return [word for part in parts for word in part]

    def prepositional(self, preposition: str, classes: frozenset[str], head: Word, relation: str) -> list[Word]:
        """ "in the park" attached to ``head`` as ``relation``, the preposition as ``case`` of the noun."""
        phrase = self.noun_phrase(classes, role="none")
        case = _attach(_fn(preposition, "ADP"), phrase.head, "case")
        _attach(phrase.head, head, relation)
        return [case, *phrase.words]

    # ---- clauses -------------------------------------------------------------------------------------
    def clause(self, depth: int = 0) -> Phrase:
        """One clause; its ``head`` is the predicate (the verb, or the adjective/noun of a copula)."""
        kinds = {
            self.transitive: 30, self.intransitive: 16, self.ditransitive: 6, self.infinitival: 8,
            self.complement: 6 if depth == 0 else 0, self.passive: 8, self.copular: 24,
        }  # fmt: skip
        builder = self.rng.choices(list(kinds), weights=list(kinds.values()))[0]
        return builder(depth)

    def _subject_and_verb(self, frame: str) -> tuple[lex.Verb, Phrase, list[Word], Word]:
        verb = self.pick(self.verbs(frame))
        subject = self.argument(verb.subject, "subj")
        pre, head = self.verb_group(verb, subject)
        _attach(subject.head, head, "nsubj")
        return verb, subject, pre, head

    def transitive(self, depth: int) -> Phrase:
        verb, subject, pre, head = self._subject_and_verb("t")
        obj = self.argument(verb.object, "obj")
        _attach(obj.head, head, "obj")
        return Phrase(subject.words + pre + [head] + obj.words + self.adjuncts(head), head)

    def intransitive(self, depth: int) -> Phrase:
        _, subject, pre, head = self._subject_and_verb("i")
        return Phrase(subject.words + pre + [head] + self.adjuncts(head), head)

    def ditransitive(self, depth: int) -> Phrase:
        """ "gave the dog an apple" (iobj + obj) or "gave an apple to the dog" (obj + obl)."""
        verb, subject, pre, head = self._subject_and_verb("d")
        obj = self.noun_phrase(verb.object, role="obj")
        _attach(obj.head, head, "obj")
        if self.chance(0.5):
            recipient = self.noun_phrase(lex.ANIMATE, role="obj", modifiers=False)
            _attach(recipient.head, head, "iobj")
            return Phrase(subject.words + pre + [head] + recipient.words + obj.words, head)
        to_phrase = self.prepositional("to", lex.ANIMATE, head, "obl")
        return Phrase(subject.words + pre + [head] + obj.words + to_phrase, head)

    def infinitival(self, depth: int) -> Phrase:
        """ "wants to eat the cake": xcomp on the main verb, "to" as mark of the infinitive."""
        _, subject, pre, head = self._subject_and_verb("x")
        inner_verb = self.pick(
            [v for v in lex.VERBS if v.subject & subject.classes and set(v.frames) & {"t", "i"} and "x" not in v.frames]
        )  # not "wants to want"
        infinitive = _attach(Word(inner_verb.lemma, inner_verb.lemma, "VERB", "", True), head, "xcomp")
        words = subject.words + pre + [head, _attach(_fn("to", "PART"), infinitive, "mark"), infinitive]
        if "t" in inner_verb.frames and ("i" not in inner_verb.frames or self.chance(0.7)):
            obj = self.argument(inner_verb.object, "obj")
            _attach(obj.head, infinitive, "obj")
            words += obj.words
        return Phrase(words + self.adjuncts(infinitive), head)

    def complement(self, depth: int) -> Phrase:
        """ "says (that) the dog sleeps": ccomp on the verb, "that" as mark of the inner predicate."""
        _, subject, pre, head = self._subject_and_verb("c")
        inner = self.clause(depth + 1)
        _attach(inner.head, head, "ccomp")
        that = [_attach(_fn("that", "SCONJ"), inner.head, "mark")] if self.chance(0.6) else []
        return Phrase(subject.words + pre + [head] + that + inner.words, head)

    def passive(self, depth: int) -> Phrase:
        """ "the cake was eaten (by the dog)": nsubj:pass, aux:pass, obl:agent."""
        verb = self.pick([v for v in self.verbs("t") if v.object])
        subject = self.argument(verb.object, "subj")
        head = Word(verb.participle, verb.lemma, "VERB", "pp", True)
        _attach(subject.head, head, "nsubj:pass")
        if self.chance(0.25):
            pre = [_attach(_fn(self.pick(lex.MODALS), "AUX"), head, "aux"), _attach(_fn("be", "AUX"), head, "aux:pass")]
        else:
            pre = [_attach(_fn(_be(subject, past=self.chance(0.6)), "AUX"), head, "aux:pass")]
        words = subject.words + pre + [head]
        if self.chance(0.6):
            words += self.prepositional("by", verb.subject, head, "obl:agent")
        return Phrase(words + self.adjuncts(head), head)

    def copular(self, depth: int) -> Phrase:
        """ "the dog is (very) happy", "Anna was a doctor", "the key is under the table" (cop)."""
        roll = self.rng.random()
        subject = self.argument(lex.ALL - {"place", "text"} if roll < 0.5 else lex.ANIMATE | {"object"}, "subj")
        if roll < 0.5:
            adjective = self.pick(sorted(a for a, c in lex.ADJECTIVES.items() if c & subject.classes))
            head = Word(adjective, adjective, "ADJ", "", True)
            predicate: list[Word] = [head]
            if self.chance(0.2):
                predicate.insert(0, _attach(_fn(self.pick(lex.DEGREE_ADVERBS), "ADV"), head, "advmod"))
        elif roll < 0.7 and "person" in subject.classes:
            noun = self.pick([n for n in lex.NOUNS if "person" in n.classes and n.plural])
            plural = subject.number == "pl"
            head = Word(noun.plural if plural else noun.lemma, noun.lemma, "NOUN", "pl" if plural else "", True)
            predicate = [head] if plural else [_attach(_fn("a", "DET"), head, "det"), head]
        else:
            place = self.noun_phrase(frozenset({"place"}), role="none")
            head = place.head
            predicate = [_attach(_fn(self.pick(lex.LOCATIVE_PREPOSITIONS), "ADP"), head, "case"), *place.words]
        _attach(subject.head, head, "nsubj")
        if self.chance(0.2):
            copula = [_attach(_fn(self.pick(lex.MODALS), "AUX"), head, "aux"), _attach(_fn("be", "AUX"), head, "cop")]
        else:
            copula = [_attach(_fn(_be(subject, past=self.chance(0.5)), "AUX"), head, "cop")]
            if self.chance(0.15):
                copula.append(_attach(_fn("not", "PART"), head, "advmod"))
        return Phrase(subject.words + copula + predicate, head)

    # ---- sentences -----------------------------------------------------------------------------------
    def sentence(self) -> list[Word]:
        """A clause, two coordinated clauses, or a clause with an adverbial clause; then a full stop."""
        roll = self.rng.random()
        main = self.clause()
        words = main.words
        if 0.6 <= roll < 0.75:
            second = self.clause()
            conjunction = _attach(_fn(self.pick(("and", "but", "and")), "CCONJ"), second.head, "cc")
            comma = [_attach(_fn(",", "PUNCT"), second.head, "punct")] if self.chance(0.5) else []
            _attach(second.head, main.head, "conj")
            words = main.words + comma + [conjunction] + second.words
        elif roll >= 0.75:
            sub = self.clause(depth=1)
            mark = _attach(_fn(self.pick(lex.SUBORDINATORS), "SCONJ"), sub.head, "mark")
            _attach(sub.head, main.head, "advcl")
            if roll < 0.88:
                words = main.words + [mark] + sub.words
            else:
                words = [mark] + sub.words + [_attach(_fn(",", "PUNCT"), sub.head, "punct")] + main.words
        return words + [_attach(_fn(".", "PUNCT"), main.head, "punct")]
