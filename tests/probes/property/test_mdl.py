"""Online codelength (Voita & Titov 2020): learnable labels compress, random labels do not."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes.property.mdl import (
    BLOCK_PERCENTAGES,
    block_ends,
    feature_mdl,
    mdl_probe,
    online_codelength,
)


@pytest.fixture(scope="module")
def representations():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 12))  # [example, dim]
    learnable = (X @ rng.normal(size=12) > 0).astype(int)
    random = rng.integers(0, 2, size=240)
    return X, learnable, random


def test_block_ends_follow_the_standard_fractions():
    assert BLOCK_PERCENTAGES == (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25.0, 50.0, 100.0)
    assert block_ends(10_000) == [10, 20, 40, 80, 160, 320, 625, 1250, 2500, 5000, 10_000]
    assert block_ends(100) == [1, 3, 6, 12, 25, 50, 100]  # clipped to >= 1 and de-duplicated


def test_learnable_labels_compress_better_than_random_labels(representations):
    X, learnable, random = representations
    real = online_codelength(X, learnable, seed=0)
    shuffled = online_codelength(X, random, seed=0)
    assert real.codelength <= real.uniform_codelength
    assert real.uniform_codelength == pytest.approx(240.0)  # 1 bit per binary label
    assert real.compression > 1.5 * shuffled.compression
    assert sum(real.block_bits) == pytest.approx(real.codelength)
    assert real.block_bits[0] == pytest.approx(real.block_ends[0])  # first block: uniform code


def test_multiclass_labels_and_determinism(representations):
    X, _, _ = representations
    y = np.array(["nsubj", "obj", "amod"])[np.argmax(X[:, :3], axis=1)]
    first = online_codelength(X, y, seed=1)
    assert first.n_classes == 3
    assert first.uniform_codelength == pytest.approx(240 * np.log2(3))
    assert first.compression > 1.5
    assert first.to_dict() == online_codelength(X, y, seed=1).to_dict()


def test_control_task_gives_positive_selectivity(representations):
    X, learnable, _ = representations
    result = mdl_probe(X, learnable, types=[f"word{i}" for i in range(240)], seed=0)
    assert result.selectivity > 0.5
    assert result.codelength_gap_bits > 0
    assert result.control.uniform_codelength == result.real.uniform_codelength


def test_feature_mdl_skips_constant_features(representations):
    X, learnable, random = representations
    Y = np.stack([learnable, random, np.zeros(240, dtype=int)], axis=1)  # [concept, feature]
    results = feature_mdl(X, Y, concepts=[f"c{i}" for i in range(240)])
    assert set(results) == {0, 1}
    assert results[0].real.compression > results[1].real.compression
    on_workers = feature_mdl(X, Y, concepts=[f"c{i}" for i in range(240)], n_jobs=2)
    assert {j: r.to_dict() for j, r in on_workers.items()} == {j: r.to_dict() for j, r in results.items()}


def test_labels_outside_the_classes_raise(representations):
    X, learnable, _ = representations
    with pytest.raises(ValueError, match="outside the given classes"):
        online_codelength(X, learnable + 5, classes=[0, 1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        online_codelength(X, np.zeros(240))


def test_calibrated_code_is_never_far_above_the_frequency_code_on_a_sparse_property():
    """A rare property the representation says nothing about: the probe-only code is worse than uniform
    (over-confident probes), the calibrated two-part code falls back to class frequencies and compresses."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 40))
    y = np.zeros(300, dtype=int)
    y[rng.choice(300, 9, replace=False)] = 1
    raw = online_codelength(X, y, seed=0, calibrated=False)
    calibrated = online_codelength(X, y, seed=0)
    assert calibrated.codelength <= raw.codelength
    assert calibrated.beats_uniform and calibrated.compression > 1.5
    assert "frequency" in calibrated.coders and calibrated.coders[0] == "uniform"
    assert calibrated.probe_codelength == pytest.approx(raw.codelength)
    assert sum(calibrated.block_bits) == pytest.approx(calibrated.codelength)
    assert calibrated.to_dict()["beats_uniform"] is True
