"""Shared tests for every registered control, from the registry table, plus the mapper-free predictors."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.property.controls import (
    CONTROLS,
    ProbeSetup,
    UnknownControlError,
    get_control,
    missing_requirements,
)
from edgeaudit.probes.property.crossval import concept_kfold
from edgeaudit.probes.property.predictors import CategoryMean, NearestNeighbourCopy, category_codes
from sklearn.linear_model import Ridge

from tests.probes.property.synthetic_norms import planted_linear


def make_setup(seed: int = 0, **overrides) -> ProbeSetup:
    data = planted_linear(n=60, dim=8, features=10)
    fields = dict(
        X=data.X,
        Y=data.Y,
        concepts=tuple(data.concepts),
        mapper=Ridge(),
        splits=concept_kfold(60, 5, seed=seed),
        seed=seed,
        n_shuffles=3,
        categories=tuple(data.categories),
        X_twin=data.X_twin,
    )
    fields.update(overrides)
    return ProbeSetup(**fields)


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_control_runs_are_deterministic_and_shaped_like_the_real_run(name):
    entry = get_control(name)
    assert entry.description and len(entry.description) < 120
    first, second = list(entry.build(make_setup())), list(entry.build(make_setup()))
    assert len(first) == (3 if entry.permutation else 1)
    for a, b in zip(first, second, strict=True):
        assert a.X.shape[0] == 60 and a.Y.shape == (60, 10)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.Y, b.Y)
        assert sorted(np.concatenate([t for _, t in a.splits.folds])) == list(range(60))


# what each control replaces in the real run; adding a control means adding its row here
REPLACES: dict[str, set[str]] = {
    "control_task": {"Y"},
    "shuffled_pairing": {"Y"},
    "frequency_matched_norms": {"Y"},
    "rotated_norms": {"Y"},
    "gaussian_embeddings": {"X"},
    "random_init_twin": {"X"},
    "nearest_neighbour_copy": {"predictor"},
    "category_mean": {"X", "predictor"},  # category codes are its only input
    "category_held_out": {"splits"},
}


def test_every_registered_control_is_in_the_table():
    assert set(REPLACES) == set(CONTROLS)


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_control_replaces_only_what_it_declares(name):
    setup = make_setup()
    run = next(iter(get_control(name).build(setup)))
    changed = {
        "X": not (run.X.shape == setup.X.shape and np.array_equal(run.X, setup.X)),
        "Y": not np.array_equal(run.Y, setup.Y),
        "predictor": run.predictor is not setup.mapper,
        "splits": run.splits is not setup.splits,
    }
    assert {key for key, value in changed.items() if value} == REPLACES[name]


def test_requirements_are_declared_and_checked():
    setup = make_setup(categories=None, X_twin=None)
    assert missing_requirements(CONTROLS["category_mean"], setup) == ["categories"]
    assert missing_requirements(CONTROLS["random_init_twin"], setup) == ["twin"]
    assert missing_requirements(CONTROLS["shuffled_pairing"], setup) == []
    with pytest.raises(UnknownControlError, match="did you mean 'category_mean'"):
        get_control("category_means")


def test_nearest_neighbour_copy_returns_the_most_cosine_similar_training_norms():
    X_train = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    Y_train = np.array([[1.0], [2.0], [3.0]])
    model = NearestNeighbourCopy().fit(X_train, Y_train)
    np.testing.assert_array_equal(
        model.predict(np.array([[5.0, 0.1], [0.1, 5.0], [2.0, 2.1]])), [[1], [2], [3]]
    )


def test_category_mean_uses_training_means_and_falls_back_to_the_global_mean():
    codes = category_codes(["a", "a", "b", "c"])
    Y = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 4.0], [9.0, 9.0]])
    model = CategoryMean().fit(codes[:3], Y[:3])
    np.testing.assert_allclose(model.predict(codes), [[2, 0], [2, 0], [0, 4], [4 / 3, 4 / 3]])
