"""Word pooling (Clark et al. 2019): to = sum over subtokens, from = mean; rows sum to 1 - special mass."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeaudit.runtime.words import hidden_pooling, word_attention, word_hidden


@st.composite
def sentences(draw):
    """A random token layout (words with 1-4 subtokens, optional specials) and softmaxed attention."""
    pieces = draw(st.lists(st.integers(1, 4), min_size=1, max_size=6))
    lead, tail = draw(st.integers(0, 1)), draw(st.integers(0, 1))
    layout = [-1] * lead + [w for w, n in enumerate(pieces) for _ in range(n)] + [-1] * tail
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    t = len(layout)
    logits = rng.normal(size=(2, 3, t, t)) * 3
    attn = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return np.asarray(layout, dtype=np.int64), len(pieces), attn.astype(np.float32), rng


def loop_word_attention(attn, word_of_token, n_words):
    """Reference with explicit loops: from = mean over the word's rows, to = sum over its columns."""
    layers, heads = attn.shape[:2]
    out = np.zeros((layers, heads, n_words, n_words))
    for layer in range(layers):
        for head in range(heads):
            for i in range(n_words):
                rows = [t for t, w in enumerate(word_of_token) if w == i]
                for j in range(n_words):
                    cols = [t for t, w in enumerate(word_of_token) if w == j]
                    out[layer, head, i, j] = np.mean([sum(attn[layer, head, r, c] for c in cols) for r in rows])
    return out


@settings(max_examples=50, deadline=None)
@given(sentences())
def test_rows_sum_to_one_minus_special_mass(case):
    word_of_token, n_words, attn, _ = case
    words, special = word_attention(attn, word_of_token, n_words)
    assert words.shape == (2, 3, n_words, n_words) and special.shape == (2, 3, n_words)
    np.testing.assert_allclose(words.sum(-1) + special, 1.0, atol=1e-5)
    if not (word_of_token < 0).any():
        np.testing.assert_allclose(special, 0.0)


@settings(max_examples=25, deadline=None)
@given(sentences())
def test_word_attention_equals_loops(case):
    word_of_token, n_words, attn, _ = case
    words, _ = word_attention(attn, word_of_token, n_words)
    np.testing.assert_allclose(words, loop_word_attention(attn.astype(np.float64), word_of_token, n_words), atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(sentences(), st.sampled_from(["mean", "first", "last"]))
def test_word_hidden_equals_loops(case, pooling):
    word_of_token, n_words, _, rng = case
    hidden = rng.normal(size=(3, len(word_of_token), 5)).astype(np.float32)
    got = word_hidden(hidden, word_of_token, n_words, pooling)
    for w in range(n_words):
        tokens = [t for t, owner in enumerate(word_of_token) if owner == w]
        expected = {"mean": hidden[:, tokens].mean(axis=1), "first": hidden[:, tokens[0]],
                    "last": hidden[:, tokens[-1]]}[pooling]
        np.testing.assert_allclose(got[:, w], expected, atol=1e-6)


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling"):
        hidden_pooling(np.array([0, 1]), 2, "max")

