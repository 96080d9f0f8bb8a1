"""Integration: the readers on the real shared datasets (EDGEAUDIT_DATA); exact counts measured here."""

from __future__ import annotations

import numpy as np
import pytest

from edgeaudit.data import load_categories, load_norms, load_treebank, stream_conllu

pytestmark = pytest.mark.integration

EWT = "ud_english_ewt/en_ewt-ud-{}.conllu"
MCRAE = "mcrae2005/CONCS_FEATS_concstats_brm.concepts_features.derived.csv"
BUCHANAN = "buchanan2019_subset/bag.nostop.lemmas.csv"
BRYSBAERT = "brysbaert2014_concreteness/Concreteness_ratings_Brysbaert_et_al_BRM.txt"
OEWN = "oewn_supersenses/oewn_lemma_supersense.tsv"


@pytest.mark.parametrize("split, sentences, words", [("dev", 2001, 25147), ("test", 2077, 25094)])
def test_ewt_counts(shared_file, split, sentences, words):
    treebank = load_treebank(shared_file(EWT.format(split)))
    assert (len(treebank), treebank.n_words, treebank.skipped) == (sentences, words, [])
    assert len(treebank.relation_counts()) >= 30 and treebank.relation_counts()["root"] == sentences
    assert all(s.text for s in treebank)


def test_ewt_multiword_tokens_are_split_into_syntactic_words(shared_file):
    stream = stream_conllu(shared_file(EWT.format("dev")))
    first = next(s for s in stream if "don't" in (s.text or "").split())
    index = first.words.index("do")
    assert first.words[index + 1] == "n't" and first.relations[index + 1] == "advmod"


def test_mcrae(shared_file):
    norms = load_norms(shared_file(MCRAE))
    assert (len(norms), len(norms.features)) == (541, 2526)
    assert int((norms.matrix > 0).sum()) == 7259 - 2  # two concept/feature pairs are listed twice
    assert norms.matrix.max() == 30  # production frequency: out of 30 participants
    assert len(norms.ambiguous_words()) == 9 and norms.ambiguous_words()["bat"] == ["animal", "baseball"]
    assert norms.skipped == []
    assert any("harpoon/used_for_killing" in note for note in norms.notes)
    first = load_norms(shared_file(MCRAE), duplicates="first")
    assert len(first) == 532 and len(first.skipped) == 9


def test_buchanan(shared_file):
    norms = load_norms(shared_file(BUCHANAN))
    assert (len(norms), len(norms.features)) == (226, 8797)  # 8,797 lemmas including the word "null"
    assert "null" in norms.features and int((norms.matrix > 0).sum()) == 39198


def test_brysbaert_keeps_the_word_null(shared_file):
    norms = load_norms(shared_file(BRYSBAERT), value_columns=["Conc.M"])
    assert len(norms) == 39954 and norms.skipped == []
    assert norms.matrix[norms.index("null"), 0] == pytest.approx(1.79)
    assert np.all((norms.matrix >= 1) & (norms.matrix <= 5))
    auto = load_norms(shared_file(BRYSBAERT))
    assert "Dom_Pos" not in auto.features and "Conc.M" in auto.features


def test_oewn_supersenses(shared_file):
    path = shared_file(OEWN)
    nouns = load_categories(path, pos="n", prefer=["noun.animal", "noun.food", "noun.artifact", "noun.plant"])
    assert (len(nouns), len(nouns.names)) == (97644, 26)
    assert [nouns[w] for w in ("dog", "apple", "hammer", "carrot")] == [
        "noun.animal", "noun.food", "noun.artifact", "noun.food",
    ]  # fmt: skip
    everything = load_categories(path)
    assert (len(everything), len(everything.names)) == (105146, 41)
    assert everything["dog"] == "noun.person"  # majority of synsets — why `prefer` exists
