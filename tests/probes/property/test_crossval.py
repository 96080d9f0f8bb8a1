"""Splits hold every concept out exactly once; one set of folds serves every run."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.property.crossval import (
    CrossValScores,
    average_runs,
    category_held_out,
    concept_kfold,
    cross_validated_predictions,
    cross_validated_scores,
    fit_folds,
    fold_predictions,
    training_thresholds,
)
from sklearn.linear_model import Ridge

from tests.probes.property.synthetic_norms import planted_linear


def test_concept_kfold_is_a_seeded_partition():
    splits = concept_kfold(53, 10, seed=4)
    tests = np.sort(np.concatenate([test for _, test in splits.folds]))
    assert np.array_equal(tests, np.arange(53))
    for train, test in splits.folds:
        assert not set(train) & set(test) and len(train) + len(test) == 53
    again = concept_kfold(53, 10, seed=4)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits.folds, again.folds, strict=True))
    assert np.array_equal(splits.fold_of[splits.folds[3][1]], np.full(len(splits.folds[3][1]), 3))


def test_category_held_out_never_splits_a_category():
    categories = [f"cat{i % 7}" for i in range(70)]
    splits = category_held_out(categories, folds=10)
    assert len(splits.folds) == 7  # capped at the number of categories
    for train, test in splits.folds:
        assert not {categories[i] for i in train} & {categories[i] for i in test}
    with pytest.raises(ValueError, match="at least 2 categories"):
        category_held_out(["a"] * 5)


def test_out_of_fold_predictions_come_from_the_fold_that_held_the_concept_out():
    data = planted_linear(n=40, dim=5, features=3)
    splits = concept_kfold(40, 4, seed=0)
    P = cross_validated_predictions(data.X, data.Y, Ridge(), splits).P
    train, test = splits.folds[2]
    expected = Ridge().fit(data.X[train], data.Y[train]).predict(data.X[test])
    np.testing.assert_allclose(P[test], expected)


def test_cross_validated_scores_per_concept_and_means():
    data = planted_linear(n=60, dim=8, features=10)
    scores = cross_validated_scores(
        data.X, data.Y, "ridge", concept_kfold(60, 5), ["neighbour@1", "spearman", "feature_f1"]
    )
    assert scores.per_unit["neighbour@1"].shape == (60,)
    assert scores.means["spearman"] == pytest.approx(np.mean(scores.per_unit["spearman"]))
    assert "feature_f1" in scores.skipped  # continuous norms


def test_average_runs_is_a_nan_aware_per_unit_mean():
    runs = [
        CrossValScores({"m": np.array([1.0, np.nan, 0.0])}, {"m": "concept"}),
        CrossValScores({"m": np.array([0.0, np.nan, 1.0])}, {"m": "concept"}),
        CrossValScores({"m": np.array([0.5, 1.0, np.nan])}, {"m": "concept"}),
    ]
    np.testing.assert_allclose(average_runs(runs).per_unit["m"], [0.5, 1.0, 0.5])


def test_concepts_of_one_word_are_held_out_together_and_unique_words_keep_plain_kfold():
    words = [f"w{i // 2}" for i in range(40)]
    splits = concept_kfold(40, 5, seed=3, words=words)
    fold_of = splits.fold_of
    assert all(fold_of[2 * i] == fold_of[2 * i + 1] for i in range(20))
    unique = [f"u{i}" for i in range(40)]
    plain, same = concept_kfold(40, 5, seed=3), concept_kfold(40, 5, seed=3, words=unique)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(plain.folds, same.folds, strict=True))


def test_training_thresholds_maximise_training_f1_and_never_see_test_concepts():
    fitted = np.array([[0.9, 0.2], [0.7, 0.1], [0.4, 0.0], [0.1, 0.3]])  # [concept, feature]
    gold = np.array([[1, 0], [1, 0], [0, 0], [0, 0]], dtype=float)
    cut = training_thresholds(fitted, gold)
    assert cut[0] == pytest.approx(0.55)  # between the two positives and the first negative
    assert cut[1] == np.inf  # no training concept has feature 1
    data = planted_linear(n=40, dim=5, features=3)
    Y = (data.Y > np.median(data.Y, axis=0)).astype(float)
    splits = concept_kfold(40, 4, seed=0)
    folds = cross_validated_predictions(data.X, Y, Ridge(), splits)
    train, test = splits.folds[1]
    own = training_thresholds(Ridge().fit(data.X[train], Y[train]).predict(data.X[train]), Y[train])
    np.testing.assert_allclose(folds.thresholds[test], np.tile(own, (len(test), 1)))
    assert cross_validated_predictions(data.X, data.Y, Ridge(), splits).thresholds is None  # not binary


def test_applied_inputs_are_fed_to_mappers_fitted_on_the_reference():
    data = planted_linear(n=40, dim=5, features=3)
    splits = concept_kfold(40, 4, seed=0)
    shifted = data.X + 1.0
    fits = fit_folds(data.X, data.Y, Ridge(), splits)
    applied = fold_predictions(fits, shifted, splits, 3).P
    train, test = splits.folds[0]
    expected = Ridge().fit(data.X[train], data.Y[train]).predict(shifted[test])
    np.testing.assert_allclose(applied[test], expected)


def test_concept_level_metrics_are_skipped_with_a_reason_for_one_feature_norms():
    data = planted_linear(n=40, dim=5, features=1)
    scores = cross_validated_scores(data.X, data.Y, "ridge", concept_kfold(40, 4),
                                    ["neighbour@1", "feature_precision", "spearman"])
    assert scores.per_unit == {} and set(scores.skipped) == {"neighbour@1", "feature_precision", "spearman"}
    assert "at least 2 features" in scores.skipped["spearman"]
