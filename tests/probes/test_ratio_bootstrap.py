"""Sentence-level bootstrap of ratio statistics: estimate, coverage, pairing and determinism."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.ratio_bootstrap import paired_ratio_margin, ratio_interval


def test_estimate_is_the_ratio_of_sums_not_the_mean_of_rates():
    hits, counts = np.array([1, 9]), np.array([1, 10])
    result = ratio_interval(hits, counts, replicates=200, seed=0)
    assert result.estimate == 10 / 11  # the mean of rates would be 0.95
    assert result.low <= result.estimate <= result.high


def test_interval_covers_the_true_rate_at_about_the_nominal_level():
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(120):
        counts = rng.integers(3, 15, size=80)
        hits = rng.binomial(counts, 0.3)
        ci = ratio_interval(hits, counts, replicates=400, seed=trial)
        covered += ci.low <= 0.3 <= ci.high
    assert 0.85 <= covered / 120 <= 0.99


def test_paired_margin_is_exact_zero_for_identical_inputs_and_positive_for_a_clear_gap():
    counts = np.full(50, 10)
    hits = np.random.default_rng(2).binomial(counts, 0.5)
    same = paired_ratio_margin(hits, hits, counts, replicates=300, seed=0)
    assert same.estimate == same.low == same.high == 0.0
    better = paired_ratio_margin(np.minimum(hits + 3, counts), hits, counts, replicates=300, seed=0)
    assert better.low > 0


def test_same_seed_same_interval():
    counts = np.arange(1, 30)
    hits = counts // 2
    assert ratio_interval(hits, counts, seed=5) == ratio_interval(hits, counts, seed=5)


def test_empty_input_gives_nan_not_an_error():
    result = ratio_interval(np.array([]), np.array([]))
    assert np.isnan(result.low) and np.isnan(result.high)


@pytest.mark.parametrize("n_units", [7, 301, 5000])
def test_chunked_replicates_give_exactly_the_intervals_of_one_big_draw(monkeypatch, n_units):
    """Memory is bounded by drawing replicates in chunks; the draws (so every CI and verdict) must not change."""
    from edgeaudit.probes import ratio_bootstrap

    rng = np.random.default_rng(1)
    hits, possible = rng.integers(0, 4, n_units).astype(float), rng.integers(1, 5, n_units).astype(float)
    control = rng.integers(0, 3, n_units).astype(float)
    one_draw = ratio_bootstrap.resample_indices(n_units, 1000, 5)
    expected = ratio_bootstrap.ratio_interval(hits, possible, seed=5, indices=one_draw)
    monkeypatch.setattr(ratio_bootstrap, "_MAX_CHUNK_ENTRIES", 3 * n_units)  # 2 rows a chunk: 500 chunks
    assert ratio_bootstrap.ratio_interval(hits, possible, seed=5) == expected
    margin = ratio_bootstrap.paired_ratio_margin(hits, control, possible, seed=5)
    monkeypatch.setattr(ratio_bootstrap, "_MAX_CHUNK_ENTRIES", 10**9)  # one chunk
    assert ratio_bootstrap.paired_ratio_margin(hits, control, possible, seed=5) == margin
    # Reused draws (counts times values) against fresh gathered draws: the same sums of these integer counts.
    for cached in (0, 10**9):
        monkeypatch.setattr(ratio_bootstrap, "_MAX_CACHED_ENTRIES", cached)
        ratio_bootstrap._resample_counts.cache_clear()
        assert ratio_bootstrap.ratio_interval(hits, possible, seed=5) == expected
        assert ratio_bootstrap.paired_ratio_margin(hits, control, possible, seed=5) == margin


def test_margin_p_value_is_the_share_of_replicates_at_or_below_zero_with_its_floor():
    rng = np.random.default_rng(3)
    counts = rng.integers(5, 15, size=200).astype(float)
    hits = np.floor(counts * 0.5)
    clear = paired_ratio_margin(np.minimum(hits + 4, counts), hits, counts, replicates=999, seed=0)
    assert clear.p_value == 1 / 1000  # no replicate at or below zero: the floor 1 / (R + 1)
    same = paired_ratio_margin(hits, hits, counts, replicates=999, seed=0)
    assert same.p_value == 1.0  # every replicate of an identical pair is exactly zero
    worse = paired_ratio_margin(hits, np.minimum(hits + 4, counts), counts, replicates=999, seed=0)
    assert worse.p_value == 1.0 and worse.as_margin()[3] == worse.p_value
    noisy = paired_ratio_margin(np.minimum(hits + rng.integers(-1, 2, size=200), counts).clip(0), hits, counts,
                                replicates=999, seed=0)
    assert 0.001 < noisy.p_value < 1.0
