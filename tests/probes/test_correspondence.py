"""Token correspondence: identifiability (Brunner et al. 2020) and rollout self-share (Abnar & Zuidema 2020)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from edgeaudit.probes import (
    RolloutSelfShare,
    attention_rollout,
    correspondence_curve,
    identified_words,
    linear_token_identifiability,
    rollout_self_share,
    token_identifiability,
)


def distinct_sentences(num: int, seed: int, dim: int = 24) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((int(rng.integers(3, 12)), dim)) for _ in range(num)]


def test_layer_zero_identifies_itself_exactly():
    inputs = distinct_sentences(20, seed=0)
    result = token_identifiability(inputs, inputs)
    assert result.rate == 1.0
    assert result.identified == result.num_words == sum(len(x) for x in inputs)
    json.dumps(result.to_dict(), allow_nan=False)


def test_ties_count_as_not_identified():
    rng = np.random.default_rng(1)
    sentence = rng.standard_normal((5, 8))
    sentence[3] = sentence[1]  # a repeated word with no positional information
    assert identified_words(sentence, sentence).tolist() == [True, False, True, False, True]
    assert token_identifiability([sentence], [sentence]).rate == pytest.approx(3 / 5)
    # A scaled copy has the same cosine: still a tie.
    sentence[4] = 2.0 * sentence[0]
    assert identified_words(sentence, sentence).tolist() == [False, False, True, False, False]


def test_direct_identifiability_needs_equal_dimensions():
    inputs = distinct_sentences(3, seed=2)
    with pytest.raises(ValueError, match="equal dimensions"):
        token_identifiability(inputs, [x[:, :10] for x in inputs])


def test_linear_map_must_be_fitted_on_other_sentences():
    inputs = distinct_sentences(10, seed=3)
    with pytest.raises(ValueError, match="disjoint"):
        linear_token_identifiability(inputs, inputs, fit_idx=[0, 1, 2, 3], score_idx=[3, 4, 5])


def test_linear_map_undoes_an_invertible_mixing_that_direct_comparison_cannot():
    rng = np.random.default_rng(4)
    inputs = distinct_sentences(60, seed=5, dim=16)
    mixing = rng.standard_normal((16, 32))
    layer = [x @ mixing for x in inputs]  # a wider layer, so direct comparison is impossible
    result = linear_token_identifiability(
        inputs, layer, fit_idx=range(40), score_idx=range(40, 60), alpha=1e-6
    )
    assert result.rate == 1.0 and result.method == "linear"
    # Pure noise carries no token: a held-out linear map cannot recover it.
    noise = [rng.standard_normal((len(x), 32)) for x in inputs]
    chance = linear_token_identifiability(inputs, noise, fit_idx=range(40), score_idx=range(40, 60))
    assert chance.rate < 0.4


def test_rollout_of_identity_attention_keeps_every_token():
    attn = np.broadcast_to(np.eye(6), (4, 2, 6, 6))  # [layer, head, seq, seq]
    np.testing.assert_allclose(rollout_self_share(attn), np.ones(4))


def test_rollout_of_uniform_attention_decays_as_computed_by_hand():
    n = 4
    attn = np.full((2, 3, n, n), 1.0 / n)
    # Layer 1: Â = 0.5/n everywhere + 0.5 on the diagonal -> diagonal 0.5 + 0.5/4 = 0.625, off-diagonal 0.125.
    # Layer 2: (Â²)_ii = 0.625² + 3 · 0.125² = 0.390625 + 0.046875 = 0.4375.
    np.testing.assert_allclose(rollout_self_share(attn), [0.625, 0.4375])
    rollout = attention_rollout(attn)
    np.testing.assert_allclose(rollout.sum(axis=-1), 1.0)  # rows stay distributions


def test_rows_that_lost_all_mass_keep_their_token():
    attn = np.zeros((1, 1, 3, 3))  # all mass went to special tokens, which were removed
    np.testing.assert_allclose(rollout_self_share(attn), [1.0])


def test_streaming_self_share_pools_positions_across_sentences():
    rng = np.random.default_rng(6)
    sentences = [rng.dirichlet(np.ones(n), size=(3, 2, n)) for n in (4, 7, 5)]
    acc = RolloutSelfShare(3)
    for attn in sentences:
        acc.update(attn)
    result = acc.result()
    diag = np.concatenate([np.diagonal(attention_rollout(a), axis1=1, axis2=2) for a in sentences], axis=1)
    np.testing.assert_allclose(result.self_share, diag.mean(axis=1))
    assert result.num_positions == 16 and result.num_sentences == 3
    json.dumps(result.to_dict(), allow_nan=False)


def test_correspondence_curve_reports_both_signals_per_layer():
    rng = np.random.default_rng(7)
    inputs = distinct_sentences(30, seed=8, dim=12)
    mixing = rng.standard_normal((12, 20))
    layers = [inputs, [x @ mixing for x in inputs]]  # a same-dim copy, then a wider linear mix
    curve = correspondence_curve(
        inputs,
        layers,
        fit_idx=range(20),
        score_idx=range(20, 30),
        self_share=np.array([0.9, 0.6]),
        alpha=1e-6,
    )
    assert curve.layers == [0, 1]
    assert curve.identifiability_direct == [1.0, None]
    assert curve.identifiability_linear == [1.0, 1.0]
    assert curve.self_share == [0.9, 0.6]
    payload = json.loads(json.dumps(curve.to_dict(), allow_nan=False))
    assert payload["identifiability_direct"] == [1.0, None]
    with pytest.raises(ValueError, match="layers"):
        correspondence_curve(inputs, layers, fit_idx=[0], score_idx=[1], self_share=np.ones(3))


def test_identifiability_interval_resamples_sentences_and_brackets_the_rate():
    rng = np.random.default_rng(7)
    inputs = distinct_sentences(60, seed=7)
    noisy = [x + rng.normal(scale=1.2, size=x.shape) for x in inputs]
    result = token_identifiability(inputs, noisy)
    assert result.sentence_identified.sum() == result.identified
    assert result.sentence_words.sum() == result.num_words
    low, high = result.interval(replicates=400, seed=0)
    assert low < result.rate < high and high - low < 0.3
    assert "sentence_identified" not in result.to_dict()
