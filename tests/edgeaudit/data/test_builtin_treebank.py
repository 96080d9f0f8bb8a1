"""The generated treebank: valid UD-style trees, varied sentences, and a nonce twin with identical trees."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from edgeaudit.data import _grammar_lexicon as lex
from edgeaudit.data import load_treebank, tree_problem
from edgeaudit.data.builtin_treebank import _real_forms, builtin_treebank
from edgeaudit.data.nonce import REAL_WORDS, inflect, nonce_lexicon

REQUIRED_RELATIONS = {
    "nsubj", "obj", "det", "amod", "advmod", "case", "obl", "nmod", "aux", "cop", "cc", "conj", "mark", "advcl",
    "xcomp", "punct", "root",
}  # fmt: skip
CONTENT_UPOS = {"NOUN", "VERB", "ADJ", "PROPN"}


@pytest.fixture(scope="module")
def real():
    return load_treebank("builtin:treebank")


@pytest.fixture(scope="module")
def nonce():
    return load_treebank("builtin:treebank-nonce")


def test_size_and_every_sentence_is_a_tree(real):
    assert len(real) == 300 and real.skipped == []
    for sentence in real:
        assert tree_problem(sentence.heads) is None, sentence.sent_id
        assert all((h == 0) == (r == "root") for h, r in zip(sentence.heads, sentence.relations, strict=True))
    assert len({s.sent_id for s in real}) == 300 and len({tuple(s.words) for s in real}) == 300


def test_lengths_vary_between_4_and_25(real):
    lengths = [len(s) for s in real]
    assert min(lengths) >= 4 and max(lengths) <= 25
    assert min(lengths) <= 6 and max(lengths) >= 20 and len(set(lengths)) >= 15


def test_relation_inventory(real):
    counts = real.relation_counts()
    assert REQUIRED_RELATIONS <= set(counts)
    assert all(counts[relation] >= 10 for relation in REQUIRED_RELATIONS)
    assert {"nsubj:pass", "aux:pass", "obl:agent", "nmod:poss"} <= set(real.relation_counts(base=False))


def test_ud_conventions(real):
    """Spot checks of UD English: determiners on nouns, case before its noun, copula on a non-verb, final punct."""
    for sentence in real:
        words, upos, rels = sentence.words, sentence.upos, sentence.relations
        heads = [int(h) - 1 for h in sentence.heads]
        assert rels[-1] == "punct" and words[-1] == "." and heads[-1] == rels.index("root")
        for i, rel in enumerate(rels):
            if rel in ("det", "amod", "nummod", "nmod:poss"):
                assert upos[heads[i]] == "NOUN" and i < heads[i], (sentence.text, i)
            if rel in ("case", "mark", "cc", "aux", "aux:pass", "cop"):
                assert i < heads[i], (sentence.text, i)  # function words precede their heads in English
            if rel == "cop":
                assert upos[heads[i]] in ("ADJ", "NOUN"), sentence.text
            if rel in ("nsubj", "nsubj:pass", "obj", "iobj"):
                assert upos[i] in ("NOUN", "PROPN", "PRON"), sentence.text
        assert sentence.text is not None and sentence.text[0].isupper() and sentence.text.endswith(".")


def test_deterministic_for_a_seed(real):
    again = builtin_treebank()
    assert [s.words for s in again] == [s.words for s in real]
    other = builtin_treebank(seed=7, size=50)
    assert len(other) == 50 and [s.words for s in other] != [s.words for s in real][:50]


def test_nonce_twin_has_identical_trees(real, nonce):
    assert len(nonce) == len(real) and nonce.source == "builtin:treebank-nonce"
    for a, b in zip(real, nonce, strict=True):
        assert a.sent_id == b.sent_id and len(a) == len(b)
        assert a.heads.tolist() == b.heads.tolist() and a.relations == b.relations and a.upos == b.upos


def test_nonce_replaces_exactly_the_content_words(real, nonce):
    manner = set(lex.MANNER_ADVERBS)
    for a, b in zip(real, nonce, strict=True):
        for i, (word, upos) in enumerate(zip(a.words, a.upos, strict=True)):
            content = upos in CONTENT_UPOS or word.lower() in manner
            assert (b.words[i] != word) == content, (a.text, b.text, i)


def test_nonce_words_are_consistent_new_and_keep_suffixes(real, nonce):
    """Same word, same non-word — up to English syncretism that regular nonce morphology undoes
    (``sheep`` sg/pl -> ``fulig``/``fuligs``) or creates (``showed``/``shown`` -> one ``-ed`` form)."""
    forward: dict[str, set[str]] = defaultdict(set)
    backward: dict[str, set[str]] = defaultdict(set)
    real_vocabulary = {w.lower() for w in _real_forms()} | REAL_WORDS
    verb_lemmas = {verb.lemma for verb in lex.VERBS}  # "sing" ends in -ing without being inflected
    for a, b in zip(real, nonce, strict=True):
        for word, twin, upos in zip(a.words, b.words, a.upos, strict=True):
            if word == twin:
                continue
            forward[word.lower()].add(twin.lower())
            backward[twin.lower()].add(word.lower())
            assert twin.lower() not in real_vocabulary
            if upos == "ADV":
                assert twin.endswith("ly")
            if word.endswith("ing") and upos == "VERB" and word not in verb_lemmas:
                assert twin.endswith("ing")
    assert max(map(len, forward.values())) <= 2 and max(map(len, backward.values())) <= 2
    one_to_one = sum(len(twins) == 1 and len(backward[next(iter(twins))]) == 1 for twins in forward.values())
    assert one_to_one >= 0.9 * len(forward) and len(forward) >= 100


def test_a_and_an_agree_in_both_variants(real, nonce):
    for a, b in zip(real, nonce, strict=True):
        assert [w for w, u in zip(a.words, a.upos, strict=True) if u == "DET"] == [
            w for w, u in zip(b.words, b.upos, strict=True) if u == "DET"
        ]


def test_nonce_lexicon_and_inflection():
    stems = nonce_lexicon(["apple", "dog", "eat"], seed=1, avoid=["dog"])
    assert stems == nonce_lexicon(["eat", "dog", "apple"], seed=1)
    assert stems["apple"][0] in "aeiou" and stems["dog"][0] not in "aeiou"
    assert len(set(stems.values())) == 3
    assert [inflect("wug", k) for k in ("", "pl", "3sg", "past", "pp", "ing", "ly", "cap")] == [
        "wug", "wugs", "wugs", "wugged", "wugged", "wugging", "wugly", "Wug",
    ]  # fmt: skip
    assert inflect("blix", "pl") == "blixes" and inflect("blix", "ing") == "blixing"


def test_inventory_counts_are_reported(real):
    counts = Counter(u for s in real for u in s.upos)
    assert {"NOUN", "VERB", "ADJ", "DET", "ADP", "AUX", "PRON", "PUNCT", "CCONJ", "SCONJ", "PART"} <= set(counts)
    summary = real.summary()
    assert summary["sentences"] == 300 and summary["words"] == real.n_words and summary["skipped"] == 0
