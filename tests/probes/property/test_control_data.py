"""Control norms and embeddings: type-level, distribution-matched, geometry-preserving as promised."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.property.control_data import (
    control_task_norms,
    frequency_matched_norms,
    gaussian_embeddings,
    rotated_norms,
    shuffled_norms,
    type_level_labels,
)
from edgeaudit.probes.property.metrics import cosine_matrix

from tests.probes.property.synthetic_norms import binary_norms, planted_linear


def test_control_task_is_type_level():
    Y = binary_norms(seed=0, n=120, features=40)
    concepts = [f"concept{i}" for i in range(120)]
    first = control_task_norms(Y, concepts, seed=5)
    assert np.array_equal(first, control_task_norms(Y, concepts, seed=5))  # across calls
    doubled = control_task_norms(Y, ["concept7", "concept3", "concept7"], seed=5)
    assert np.array_equal(doubled[0], doubled[2])  # a concept appearing twice gets the same vector
    assert np.array_equal(doubled[0], first[7])  # and the same as next to other concepts
    assert not np.array_equal(first, control_task_norms(Y, concepts, seed=6))


def test_control_task_vectors_are_real_rows_with_matching_feature_rates():
    Y = binary_norms(seed=1, n=2000, features=40)
    control = control_task_norms(Y, [f"w{i}" for i in range(2000)], seed=0)
    real_rows = {row.tobytes() for row in Y}
    assert all(row.tobytes() in real_rows for row in control)
    np.testing.assert_allclose(control.mean(axis=0), Y.mean(axis=0), atol=0.05)


def test_type_level_labels_follow_the_label_distribution():
    rng = np.random.default_rng(0)
    y = rng.choice(["nsubj", "obj", "amod"], p=[0.6, 0.3, 0.1], size=3000)
    types = [f"word{i % 1500}" for i in range(3000)]
    control = type_level_labels(y, types, seed=0)
    assert all(control[i] == control[i + 1500] for i in range(1500))  # same type, same label
    for label, rate in [("nsubj", 0.6), ("obj", 0.3), ("amod", 0.1)]:
        assert np.mean(control == label) == pytest.approx(rate, abs=0.05)


def test_rotated_norms_keep_concept_geometry_and_change_features():
    Y = planted_linear(n=120, features=40).Y
    rotated = rotated_norms(Y, np.random.default_rng(0))
    np.testing.assert_allclose(cosine_matrix(rotated, rotated), cosine_matrix(Y, Y), atol=1e-9)
    np.testing.assert_allclose(rotated @ rotated.T, Y @ Y.T, atol=1e-9)
    assert np.abs(rotated - Y).mean() > 0.5 * np.abs(Y).mean()


def test_frequency_matched_binary_norms_match_feature_rates():
    Y = binary_norms(seed=2, n=3000, features=30)
    random = frequency_matched_norms(Y, np.random.default_rng(0))
    assert set(np.unique(random)) <= {0.0, 1.0}
    np.testing.assert_allclose(random.mean(axis=0), Y.mean(axis=0), atol=0.03)


def test_frequency_matched_continuous_norms_keep_each_feature_column():
    Y = planted_linear(n=50, features=10).Y
    random = frequency_matched_norms(Y, np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(random, axis=0), np.sort(Y, axis=0))
    assert not np.array_equal(random, Y)


def test_shuffled_norms_permute_rows():
    Y = planted_linear(n=50, features=10).Y
    shuffled = shuffled_norms(Y, np.random.default_rng(0))
    assert sorted(map(bytes, shuffled)) == sorted(map(bytes, Y))


def test_gaussian_embeddings_are_one_fixed_vector_per_word():
    X = gaussian_embeddings(["cat", "dog", "cat"], 16, seed=0, scale=2.0)
    assert X.shape == (3, 16)
    np.testing.assert_array_equal(X[0], X[2])
    np.testing.assert_array_equal(X[1], gaussian_embeddings(["dog"], 16, seed=0, scale=2.0)[0])
