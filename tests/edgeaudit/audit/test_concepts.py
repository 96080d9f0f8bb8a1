"""Concept vectors alone or inside a template: only the concept's own words are pooled."""

from __future__ import annotations

import numpy as np

from edgeaudit.audit.concepts import Template, concept_vectors
from edgeaudit.audit.layers import layer_sentences
from edgeaudit.bundle import load_bundle
from edgeaudit.runtime import StoredActivations, extract


def test_template_vectors_pool_the_concept_words_of_the_sentence_run_whole(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle("gpt2"))
    template = "This is a {word}."
    got = concept_vectors(bundle, ["ice_cream", "dog"], [0, 2], tmp_path / "t", progress=False, template=template)
    alone = concept_vectors(bundle, ["ice_cream", "dog"], [0, 2], tmp_path / "a", progress=False)
    sentence = Template.parse(template).sentence("check", ["ice", "cream"])
    extract(bundle, [sentence], store_dir=tmp_path / "manual", progress=False)
    for layer in (0, 2):
        words = layer_sentences(StoredActivations(tmp_path / "manual"), layer)[0]  # [word, hidden]
        assert words.shape[0] == 6  # This is a ice cream .
        np.testing.assert_allclose(got.vectors[layer][0], words[3:5].mean(axis=0), rtol=1e-6)
    assert got.kept == [0, 1] and not np.allclose(got.vectors[2], alone.vectors[2])  # context changes layer 2
