"""Every registered mapper, saved as arrays, predicts exactly what the fitted estimator predicts."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.property import MAPPERS, make_mapper, mapper_state, predict_from_state
from sklearn.linear_model import Lasso

from tests.probes.property.synthetic_norms import planted_linear

CASES = [("plsr", {}), ("plsr", {"algorithm": "nipals", "n_components": 5}), ("plsr", {"scale": True}),
         ("ridge", {}), ("mlp", {"hidden_layer_sizes": (8,), "max_iter": 50}),
         ("mlp", {"hidden_layer_sizes": (8, 4), "activation": "tanh", "max_iter": 50})]


def test_every_registered_mapper_is_covered():
    assert {name for name, _ in CASES} == set(MAPPERS)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("name", "params"), CASES)
def test_saved_state_predicts_the_same_floats(name, params):
    data = planted_linear(n=60, dim=12, features=7)
    fitted = make_mapper(name, seed=3, **params).fit(data.X[:45], data.Y[:45])
    kind, arrays = mapper_state(fitted)
    reloaded = (kind, {key: np.array(value) for key, value in arrays.items()})  # as read back from an .npz
    unseen = data.X[45:] + 0.5  # another model's vectors of the held-out concepts
    np.testing.assert_array_equal(predict_from_state(reloaded, unseen), fitted.predict(unseen))
    other = make_mapper(name, seed=3, **params).fit(data.X[:45], data.Y[:45] * 2)
    assert not np.allclose(predict_from_state(mapper_state(other), unseen), fitted.predict(unseen))


def test_unsupported_estimators_and_kinds_are_refused():
    data = planted_linear(n=30, dim=5, features=3)
    with pytest.raises(TypeError, match="Lasso"):
        mapper_state(Lasso().fit(data.X, data.Y))
    with pytest.raises(ValueError, match="unknown saved mapper kind"):
        predict_from_state(("kernel", {}), data.X)
