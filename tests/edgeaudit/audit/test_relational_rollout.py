"""Word-level rollout keeps per-sentence sums so its self-share gets a CI over sentences (issue 16 item 3)."""

from __future__ import annotations

import numpy as np

from edgeaudit.audit.relational import WordRollout


def test_rollout_curve_interval_is_over_sentences_and_matches_the_pooled_mean():
    rng = np.random.default_rng(0)
    rollout = WordRollout(num_layers=2)
    for _ in range(40):
        n = int(rng.integers(3, 9))
        attention = rng.random((2, 3, n, n))
        attention /= attention.sum(axis=-1, keepdims=True)
        rollout.update(attention, None)
    curve = rollout.result()
    assert curve.sentence_sums.shape == (40, 2) and curve.sentence_positions.sum() == curve.num_positions
    np.testing.assert_allclose(curve.sentence_sums.sum(axis=0) / curve.num_positions, curve.self_share)
    for layer in (0, 1):
        low, high = curve.interval(layer, replicates=300, confidence=0.95, seed=0)
        assert low <= curve.self_share[layer] <= high and high - low > 0


def test_a_curve_from_an_older_checkpoint_has_no_interval():
    curve = WordRollout(num_layers=1).result()
    del curve.sentence_sums  # checkpoints written before per-sentence sums existed
    assert curve.interval(0, replicates=10, confidence=0.95, seed=0) is None
