"""Metrics against naive re-implementations written here, loop by loop."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.property.metrics import (
    METRICS,
    UnknownMetricError,
    concept_spearman,
    feature_f1,
    feature_precision,
    get_metric,
    neighbour_chance,
    neighbour_score,
)
from scipy.stats import spearmanr
from sklearn.metrics import f1_score

from tests.probes.property.synthetic_norms import binary_norms


def naive_cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return 0.0 if na == 0 or nb == 0 else float(a @ b / (na * nb))


def naive_neighbour(P, Y, k, groups=None):
    hits = []
    for i in range(len(P)):
        candidates = [j for j in range(len(Y)) if groups is None or groups[j] == groups[i]]
        own = naive_cosine(P[i], Y[i])
        rank = sum(1 for j in candidates if naive_cosine(P[i], Y[j]) >= own)  # ties count against
        hits.append(1.0 if rank <= k else 0.0)
    return np.array(hits)


def naive_precision(P, Y):
    out = []
    for i in range(len(P)):
        gold = {j for j in range(Y.shape[1]) if Y[i, j] > 0}
        k = len(gold)
        if k == 0:
            out.append(np.nan)
            continue
        top = sorted(range(P.shape[1]), key=lambda j: -P[i, j])[:k]
        out.append(len(gold.intersection(top)) / k)
    return np.array(out)


@pytest.fixture
def predictions():
    rng = np.random.default_rng(3)
    Y = binary_norms(seed=3, n=40, features=25) * rng.uniform(1, 30, size=(40, 25))  # production frequencies
    P = Y + rng.normal(scale=8.0, size=Y.shape)  # noisy predictions
    groups = np.arange(40) % 4
    return P, Y, groups


@pytest.mark.parametrize("k", [1, 5, 10])
@pytest.mark.parametrize("use_groups", [True, False])
def test_neighbour_score_matches_naive_loop(predictions, k, use_groups):
    P, Y, groups = predictions
    g = groups if use_groups else None
    assert np.array_equal(neighbour_score(P, Y, k, groups=g), naive_neighbour(P, Y, k, g))


def test_neighbour_ties_count_against_the_concept():
    Y = np.eye(4)
    P = np.zeros((4, 4))  # a constant (zero) prediction ties with every candidate
    assert neighbour_score(P, Y, 1).sum() == 0
    assert neighbour_score(P, Y, 4).sum() == 4


def test_neighbour_chance_is_k_over_candidates():
    groups = np.repeat(np.arange(3), 10)
    assert neighbour_chance(1, groups=groups, n=30) == pytest.approx(0.1)
    assert neighbour_chance(5, groups=None, n=30) == pytest.approx(5 / 30)


def test_feature_precision_matches_naive_loop(predictions):
    P, Y, _ = predictions
    np.testing.assert_allclose(feature_precision(P, Y), naive_precision(P, Y))


def test_feature_precision_with_fixed_k_uses_top_gold_values():
    Y = np.array([[0.9, 0.1, 0.5, -1.0]])
    P = np.array([[1.0, 0.0, -2.0, 3.0]])
    # top-2 gold = {0, 2}; top-2 predicted = {3, 0}
    assert feature_precision(P, Y, n_gold=np.array([2]))[0] == pytest.approx(0.5)


def test_concept_spearman_matches_scipy(predictions):
    P, Y, _ = predictions
    expected = [spearmanr(P[i], Y[i]).statistic for i in range(len(P))]
    np.testing.assert_allclose(concept_spearman(P, Y), expected, atol=1e-12)


def test_feature_f1_matches_sklearn():
    rng = np.random.default_rng(0)
    Y = binary_norms(seed=1, n=60, features=8)
    P = np.clip(Y + rng.normal(scale=0.4, size=Y.shape), -1, 2)
    expected = [f1_score(Y[:, j], P[:, j] > 0.5) for j in range(8)]
    np.testing.assert_allclose(feature_f1(P, Y), expected)


def test_feature_f1_is_nan_for_a_feature_never_gold():
    Y = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert np.isnan(feature_f1(np.ones((2, 2)), Y)[1])


def test_get_metric_parses_any_k_and_suggests_names():
    assert get_metric("neighbour@3").name == "neighbour@3"
    assert set(METRICS) >= {"neighbour@1", "neighbour@5", "neighbour@10", "spearman", "feature_precision"}
    with pytest.raises(UnknownMetricError, match="did you mean 'spearman'"):
        get_metric("spearmann")


def test_spearman_does_not_reward_tied_predictions():
    """A 0/1 copy and a continuous prediction that order the gold features identically score the same."""
    gold = np.array([[1, 1, 0, 0, 0, 0, 0, 0]], dtype=float)
    copy = gold.copy()
    continuous = np.array([[0.9, 0.8, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05]])
    assert concept_spearman(copy, gold)[0] == pytest.approx(concept_spearman(continuous, gold)[0])
    assert concept_spearman(copy, gold)[0] < 1.0


def test_spearman_of_a_constant_prediction_is_chance_and_tie_free_inputs_match_scipy():
    rng = np.random.default_rng(0)
    gold = rng.random((5, 12))
    pred = rng.random((5, 12))
    expected = [spearmanr(p, g).statistic for p, g in zip(pred, gold, strict=True)]
    np.testing.assert_allclose(concept_spearman(pred, gold), expected)
    assert concept_spearman(np.zeros((1, 12)), gold[:1])[0] == 0.0
    assert np.isnan(concept_spearman(pred[:1], np.zeros((1, 12))))[0]


def test_feature_f1_uses_per_concept_thresholds():
    P = np.array([[0.3], [0.2], [0.1], [0.05]])
    Y = np.array([[1], [1], [0], [0]], dtype=float)
    assert feature_f1(P, Y)[0] == 0.0  # nothing above the fixed 0.5
    assert feature_f1(P, Y, threshold=np.full((4, 1), 0.15))[0] == pytest.approx(1.0)


def candidate_mask(groups, n: int) -> np.ndarray:
    """Dense reference: ``[concept, candidate]`` True where the candidate is ranked (same group, or all)."""
    if groups is None:
        return np.ones((n, n), dtype=bool)
    return np.asarray(groups)[:, None] == np.asarray(groups)[None, :]


@pytest.mark.parametrize("folds", [None, 3])
def test_neighbour_ranks_in_small_blocks_equal_the_dense_ranks(monkeypatch, folds):
    """Ranks are computed block by block (bounded memory for 40,000-concept norms); tiny blocks change nothing."""
    from edgeaudit.probes.property import metrics

    rng = np.random.default_rng(5)
    P, Y = rng.random((37, 6)), rng.random((37, 6))
    Y[4] = Y[9]  # a tie
    groups = None if folds is None else np.arange(37) % folds
    sim = metrics.cosine_matrix(P, Y)
    dense = ((sim >= np.diag(sim)[:, None]) & candidate_mask(groups, 37)).sum(axis=1)
    monkeypatch.setattr(metrics, "BLOCK_ENTRIES", 20)
    assert np.array_equal(metrics.neighbour_ranks(P, Y, groups=groups), dense)
    expected_chance = np.mean(np.minimum(5, candidate_mask(groups, 37).sum(axis=1))
                              / candidate_mask(groups, 37).sum(axis=1))
    assert metrics.neighbour_chance(5, groups=groups, n=37) == pytest.approx(expected_chance)


def test_nearest_neighbour_copy_in_small_blocks_copies_the_same_rows(monkeypatch):
    from edgeaudit.probes.property import metrics
    from edgeaudit.probes.property.predictors import NearestNeighbourCopy

    rng = np.random.default_rng(6)
    X_train, Y_train, X = rng.random((30, 4)), rng.random((30, 3)), rng.random((11, 4))
    dense = Y_train[np.argmax(metrics.cosine_matrix(X, X_train), axis=1)]
    monkeypatch.setattr(metrics, "BLOCK_ENTRIES", 40)
    np.testing.assert_array_equal(NearestNeighbourCopy().fit(X_train, Y_train).predict(X), dense)
