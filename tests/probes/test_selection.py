"""Cross-fitted selection: every unit is scored by a winner chosen without it, and the curse goes away."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.selection import cross_fit, fold_assignment
from hypothesis import given, settings
from hypothesis import strategies as st


@given(st.integers(min_value=2, max_value=300), st.integers(min_value=2, max_value=10), st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_folds_are_balanced_seeded_and_cover_every_unit(n, folds, seed):
    assignment = fold_assignment(n, folds, seed)
    counts = np.bincount(assignment, minlength=folds)
    assert assignment.shape == (n,) and counts.max() - counts.min() <= 1
    assert np.array_equal(assignment, fold_assignment(n, folds, seed))


def test_fewer_than_two_folds_is_refused():
    with pytest.raises(ValueError, match="at least 2 folds"):
        fold_assignment(10, 1, 0)


def test_each_unit_is_scored_by_the_winner_of_the_other_folds():
    # 4 units in 2 folds; candidate 1 wins on fold 0's units, candidate 0 on fold 1's.
    hits = np.array([[0, 5], [0, 5], [4, 0], [4, 0]], dtype=float)
    counts = np.full(4, 5.0)
    assignment = np.array([0, 0, 1, 1])
    fit = cross_fit(hits, counts, assignment)
    # fold 0 is scored by fold 1's winner (candidate 0), fold 1 by fold 0's winner (candidate 1): both miss
    assert fit.choices == (0, 1)
    assert fit.hits.tolist() == [0, 0, 0, 0] and fit.score == 0.0
    assert fit.gather(np.arange(8.0).reshape(4, 2)).tolist() == [0, 2, 5, 7]


def test_a_real_winner_keeps_its_score_and_pure_noise_loses_its_optimism():
    rng = np.random.default_rng(0)
    n, k = 400, 72
    counts = rng.integers(3, 10, size=n).astype(float)
    noise = rng.binomial(counts[:, None].astype(int), 0.3, size=(n, k)).astype(float)  # 72 equal heads
    assignment = fold_assignment(n, 5, 1)
    in_sample = (noise.sum(axis=0) / counts.sum()).max()
    held = cross_fit(noise, counts, assignment)
    assert in_sample - held.score > 0.01  # the best of 72 equal heads looks better than it is
    assert abs(held.score - 0.3) < 0.02  # held out, it scores what every head scores
    real = noise.copy()
    real[:, 5] = rng.binomial(counts.astype(int), 0.6).astype(float)  # one head truly better
    fit = cross_fit(real, counts, assignment)
    assert set(fit.choices) == {5} and fit.score == pytest.approx(real[:, 5].sum() / counts.sum())


def test_per_candidate_denominators_are_used_for_the_choice_and_the_score():
    hits = np.array([[1, 3], [1, 3]], dtype=float)
    counts = np.array([[2, 10], [2, 10]], dtype=float)  # candidate 0: 50 %, candidate 1: 30 %
    fit = cross_fit(hits, counts, np.array([0, 1]))
    assert fit.choices == (0, 0) and fit.counts.tolist() == [2, 2] and fit.score == 0.5
