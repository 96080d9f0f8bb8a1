"""Percentile bootstrap intervals: coverage, determinism, pairing, NaN handling."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.bootstrap import (
    ConfidenceInterval,
    bootstrap_margin_ci,
    bootstrap_mean_ci,
    bootstrap_means,
)


def test_interval_covers_the_true_mean_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    covered = 0
    for repeat in range(100):
        sample = rng.exponential(scale=2.0, size=80)  # true mean 2, skewed
        _, low, high = bootstrap_mean_ci(sample, n_resamples=1000, seed=repeat)
        covered += low <= 2.0 <= high
    assert 0.88 <= covered / 100 <= 0.99


def test_same_seed_same_interval_and_different_seed_differs():
    scores = np.random.default_rng(1).normal(size=50)
    assert bootstrap_mean_ci(scores, seed=7) == bootstrap_mean_ci(scores, seed=7)
    assert bootstrap_mean_ci(scores, seed=7) != bootstrap_mean_ci(scores, seed=8)


def test_estimate_is_the_sample_mean_and_interval_brackets_it():
    scores = np.random.default_rng(2).normal(loc=3.0, size=200)
    ci = bootstrap_mean_ci(scores)
    assert isinstance(ci, ConfidenceInterval)
    assert ci.estimate == pytest.approx(scores.mean())
    assert ci.low < ci.estimate < ci.high
    assert ci.high - ci.low == pytest.approx(2 * 1.96 * scores.std() / np.sqrt(200), rel=0.2)


def test_margin_resamples_pairs_jointly():
    rng = np.random.default_rng(3)
    shared = rng.normal(scale=10.0, size=100)  # large per-unit variation common to both
    real, control = shared + 0.5, shared + rng.normal(scale=0.1, size=100)
    paired = bootstrap_margin_ci(real, control)
    assert paired.low > 0  # pairing removes the shared variation
    unpaired_width = bootstrap_mean_ci(real).high - bootstrap_mean_ci(real).low
    assert paired.high - paired.low < unpaired_width / 10


def test_nan_units_are_dropped():
    scores = np.array([1.0, np.nan, 3.0])
    assert bootstrap_mean_ci(scores).estimate == pytest.approx(2.0)
    margin = bootstrap_margin_ci(np.array([1.0, 2.0, np.nan]), np.array([0.0, np.nan, 5.0]))
    assert margin == (1.0, 1.0, 1.0)
    assert all(np.isnan(bootstrap_mean_ci(np.array([np.nan]))))


def test_many_units_are_chunked_without_changing_the_distribution():
    scores = np.random.default_rng(4).normal(size=20_000)
    means = bootstrap_means(scores, n_resamples=1000, seed=0)
    assert means.shape == (1000,)
    assert means.std() == pytest.approx(scores.std() / np.sqrt(scores.size), rel=0.15)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        bootstrap_mean_ci(np.ones(3), confidence=1.5)
    with pytest.raises(ValueError):
        bootstrap_margin_ci(np.ones(3), np.ones(4))


def test_to_dict_is_plain_and_null_for_nan():
    assert ConfidenceInterval(1.0, float("nan"), 2.0).to_dict() == {"estimate": 1.0, "low": None, "high": 2.0}
