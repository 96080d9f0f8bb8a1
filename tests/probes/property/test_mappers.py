"""Mapper registry: every mapper fits and predicts the right shape, deterministically; PLSR is PLSR."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from edgeaudit.probes.property.mappers import MAPPERS, CappedPLSRegression, UnknownMapperError, make_mapper
from sklearn.base import clone
from sklearn.cross_decomposition import PLSRegression

from tests.probes.property.synthetic_norms import planted_linear


@pytest.mark.parametrize("name", sorted(MAPPERS))
def test_every_mapper_fits_predicts_and_is_deterministic(name):
    data = planted_linear(n=80, dim=10, features=6)
    params = {"hidden_layer_sizes": (16,), "max_iter": 200} if name == "mlp" else {}
    mapper = make_mapper(name, seed=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence on a tiny data set is not under test
        first = clone(mapper).fit(data.X[:60], data.Y[:60]).predict(data.X[60:])
        second = clone(mapper).fit(data.X[:60], data.Y[:60]).predict(data.X[60:])
    assert first.shape == (20, 6)
    np.testing.assert_array_equal(first, second)
    assert np.corrcoef(first.ravel(), data.Y[60:].ravel())[0, 1] > 0.5  # learns a planted linear map


def test_unknown_mapper_suggests_the_closest_name():
    with pytest.raises(UnknownMapperError, match="did you mean 'plsr'"):
        make_mapper("plrs")


def test_pls_components_are_capped_by_the_training_data():
    rng = np.random.default_rng(0)
    model = CappedPLSRegression(n_components=50).fit(rng.normal(size=(12, 5)), rng.normal(size=(12, 3)))
    assert model.n_components_ <= 5
    model = CappedPLSRegression(n_components=50).fit(rng.normal(size=(8, 30)), rng.normal(size=(8, 3)))
    assert model.n_components_ <= 7


@pytest.mark.parametrize("scale", [False, True])
def test_exact_pls_matches_scikit_learn_nipals(scale):
    data = planted_linear(n=90, dim=12, features=20)
    ours = CappedPLSRegression(n_components=5, scale=scale).fit(data.X, data.Y)
    ref = PLSRegression(n_components=5, scale=scale, max_iter=5000, tol=1e-14).fit(data.X, data.Y)
    np.testing.assert_allclose(ours.predict(data.X), ref.predict(data.X), atol=1e-6)


def test_pls_predictions_rotate_with_rotated_targets():
    """Unscaled PLS commutes with an orthogonal rotation of Y (what the rotated-norm control relies on)."""
    data = planted_linear(n=90, dim=12, features=20)
    Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(20, 20)))
    plain = CappedPLSRegression(n_components=6).fit(data.X, data.Y).predict(data.X)
    rotated = CappedPLSRegression(n_components=6).fit(data.X, data.Y @ Q).predict(data.X)
    np.testing.assert_allclose(rotated, plain @ Q, atol=1e-8)


@pytest.mark.parametrize("dim", [1, 2, 9, 75, 200])
def test_direct_dsyevr_is_scipy_eigh_bit_for_bit(dim):
    # The PLS fit calls LAPACK directly to skip eigh's per-call overhead; it must stay the same computation.
    from edgeaudit.probes.property._pls import _top_eigenpair_dense
    from scipy.linalg import eigh

    rng = np.random.default_rng(dim)
    for rounded in (False, True):  # rounded Grams have repeated eigenvalues
        A = rng.standard_normal((dim + 5, dim))
        S = np.round(A.T @ A) if rounded else A.T @ A
        vector, value = _top_eigenpair_dense(S)
        values, vectors = eigh(S, subset_by_index=[dim - 1, dim - 1])
        np.testing.assert_array_equal(vector, vectors[:, 0])
        assert value == float(values[0])


def _pls2_by_explicit_deflation(X, Y, n_components):
    """Textbook PLS2 (regression mode): each weight is the top left singular vector of the deflated XₖᵀY, and X is
    deflated by every component. The reference the undeflated fit must reproduce."""
    Xk, Y0 = X - X.mean(axis=0), Y - Y.mean(axis=0)
    W, P, Q = [], [], []
    for _ in range(n_components):
        w = np.linalg.svd(Xk.T @ Y0, full_matrices=False)[0][:, 0]
        t = Xk @ w
        tt = t @ t
        p, q = Xk.T @ t / tt, Y0.T @ t / tt
        Xk = Xk - np.outer(t, p)
        W.append(w), P.append(p), Q.append(q)
    W, P, Q = (np.stack(M, 1) for M in (W, P, Q))
    return W @ np.linalg.pinv(P.T @ W) @ Q.T


@pytest.mark.parametrize(("dim", "features"), [(30, 8), (8, 30)])  # both Gram branches: few and many features
def test_pls_without_deflating_x_matches_explicit_deflation(dim, features):
    from edgeaudit.probes.property._pls import fit_pls2

    rng = np.random.default_rng(dim)
    X, Y = rng.standard_normal((60, dim)), rng.standard_normal((60, features))
    _, _, coef, used = fit_pls2(X, Y, 6)
    assert used == 6
    reference = _pls2_by_explicit_deflation(X, Y, 6)
    np.testing.assert_allclose(coef, reference, rtol=0, atol=1e-10 * np.abs(reference).max())
