"""align → plan → pad, shared by every model pass: each sentence lands in exactly one batch or is recorded skipped."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeaudit.bundle import load_bundle
from edgeaudit.runtime import BatchOptions, SentenceInput, WordTokenizer, align_sentences, padded_batches

WORDS = ["the", "cat", "sat", "on", "a", "mat", "quick", "brown", "fox", "!"]


def test_unalignable_sentences_are_recorded_once_with_their_index(tiny_bundle):
    words = WordTokenizer.from_bundle(load_bundle(tiny_bundle("bert")))
    corpus = [SentenceInput("a", ["the", "cat"]), SentenceInput("long", ["cat"] * 500), SentenceInput("b", ["fox"])]
    skipped, seen = [], []
    aligned = align_sentences(words, corpus, start=10, skipped=skipped, on_skip=seen.append)
    assert [s.index for s in aligned] == [10, 12]
    assert [(s.index, s.sent_id, s.kind) for s in skipped] == [(11, "long", "too-long")]
    assert seen == skipped


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sentences=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=20), min_size=1, max_size=30),
       budget=st.integers(min_value=8, max_value=200))
def test_every_aligned_sentence_is_in_one_batch_padded_with_the_pad_id(tiny_bundle, sentences, budget):
    words = WordTokenizer.from_bundle(load_bundle(tiny_bundle("bert")))
    corpus = [SentenceInput(str(i), sentence) for i, sentence in enumerate(sentences)]
    aligned = align_sentences(words, corpus)
    batches = list(padded_batches(aligned, BatchOptions(batch_tokens=budget), pad_id=7))
    indices = [s.index for batch in batches for s in batch.sentences]
    assert sorted(indices) == [s.index for s in aligned]
    for batch in batches:
        for row, sentence in enumerate(batch.sentences):
            n = sentence.alignment.n_tokens
            np.testing.assert_array_equal(batch.input_ids[row, :n], sentence.alignment.input_ids)
            assert batch.attention_mask[row, :n].all() and not batch.attention_mask[row, n:].any()
            assert (batch.input_ids[row, n:] == 7).all()
