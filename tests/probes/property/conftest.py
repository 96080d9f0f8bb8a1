"""Property-probe test fixtures: one BLAS thread (the matrices are tiny) and cached probe runs."""

from __future__ import annotations

import pytest
from edgeaudit.probes.property import run_property_probe
from threadpoolctl import threadpool_limits

from tests.probes.property.synthetic_norms import clustered_by_category, planted_linear


@pytest.fixture(autouse=True, scope="module")
def _single_blas_thread():
    """Tiny matrix products are slower with a thread pool, badly so on a loaded machine (per module, so
    the limit never leaks into other test directories)."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def planted_run():
    data = planted_linear(seed=0)
    result = run_property_probe(
        data.X,
        data.Y,
        concepts=data.concepts,
        categories=data.categories,
        X_twin=data.X_twin,
        folds=5,
        n_shuffles=20,
        seed=0,
    )
    return data, result


@pytest.fixture(scope="module")
def clustered_run():
    data = clustered_by_category(seed=0)
    result = run_property_probe(
        data.X,
        data.Y,
        concepts=data.concepts,
        categories=data.categories,
        controls=["category_mean", "nearest_neighbour_copy", "shuffled_pairing"],
        n_shuffles=20,
        seed=0,
    )
    return data, result
