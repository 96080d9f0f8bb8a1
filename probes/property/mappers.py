"""Mappers from a word's embedding to its feature-norm vector: PLSR, ridge and a small MLP.

Property inference (Fagarasan et al. 2015; Derby et al. 2019) learns a map ``X [concept, dim] ->
Y [concept, feature]`` from embeddings to human feature norms (McRae et al. 2005; Buchanan et al. 2019). The
mapper is half of what a score measures — a flexible mapper fits shuffled or random data too — so every
control must be run with the *same* mapper and hyper-parameters: the probe runner clones one estimator
built here for every fold of every run.

Registered mappers (``make_mapper(name, seed=..., **params)``):

- ``plsr``: partial least squares regression (Wold 1984) with ``n_components`` (default 50) capped at fit
  time by the training data (``min(n_components, n_train - 1, dim)``), weights computed exactly per component
  (``algorithm="svd"``; ``"nipals"`` uses scikit-learn's ``PLSRegression``, same model, much slower). ``scale=False``: the norms are not
  standardised per feature, so rare features are not inflated and the map commutes with rotations of ``Y``
  (what the rotated-norm control relies on); ``X`` is still centred.
- ``ridge``: multi-output ridge regression; the penalty is chosen *inside each training fold* by efficient
  leave-one-out (``RidgeCV``), so the selection procedure — not a value tuned on test data — is shared.
- ``mlp``: a one-hidden-layer perceptron (``MLPRegressor``) on standardised inputs, early stopping on 10% of
  the training concepts, seeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._names import unknown_name_message
from ._pls import fit_pls2

DEFAULT_RIDGE_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-2, 4, 13))


class CappedPLSRegression(RegressorMixin, BaseEstimator):
    """PLS regression whose component count is capped by the training data at fit time.

    Cross-validation folds and category-held-out splits have different training sizes; capping inside
    ``fit`` keeps one hyper-parameter setting valid for all of them. ``algorithm="svd"`` (default) computes
    each component's weights exactly (``probes.property._pls``; the model NIPALS converges to, far faster
    for thousands of features); ``"nipals"`` delegates to scikit-learn's ``PLSRegression``.
    """

    def __init__(
        self,
        n_components: int = 50,
        *,
        scale: bool = False,
        algorithm: str = "svd",
        max_iter: int = 500,
        tol: float = 1e-6,
    ):
        self.n_components = n_components
        self.scale = scale
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: np.ndarray, Y: np.ndarray) -> CappedPLSRegression:
        X = np.asarray(X, dtype=float)  # [concept, dim]
        Y = np.asarray(Y, dtype=float).reshape(len(X), -1)  # [concept, feature]
        n_components = max(1, min(self.n_components, X.shape[0] - 1, X.shape[1]))
        if self.algorithm == "nipals":
            self.pls_ = PLSRegression(
                n_components=n_components, scale=self.scale, max_iter=self.max_iter, tol=self.tol
            ).fit(X, Y)
            self.n_components_ = n_components
            return self
        if self.algorithm != "svd":
            raise ValueError(f"algorithm must be 'svd' or 'nipals', got {self.algorithm!r}")
        self.x_scale_ = _column_scale(X) if self.scale else np.ones(X.shape[1])
        self.y_scale_ = _column_scale(Y) if self.scale else np.ones(Y.shape[1])
        self.x_mean_, y_mean, coef, self.n_components_ = fit_pls2(
            X / self.x_scale_, Y / self.y_scale_, n_components
        )
        self.coef_ = coef * self.y_scale_[None, :]  # [dim, feature] on the scaled inputs
        self.intercept_ = y_mean * self.y_scale_  # [feature]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:  # [concept, feature]
        X = np.asarray(X, dtype=float)
        if self.algorithm == "nipals":
            return self.pls_.predict(X).reshape(len(X), -1)
        return (X / self.x_scale_ - self.x_mean_) @ self.coef_ + self.intercept_


def _column_scale(A: np.ndarray) -> np.ndarray:
    std = A.std(axis=0, ddof=1)
    return np.where(std > 0, std, 1.0)


def _plsr(seed: int, **params: Any) -> Any:
    del seed  # PLSR (NIPALS) is deterministic
    return CappedPLSRegression(**params)


def _ridge(seed: int, **params: Any) -> Any:
    del seed
    params.setdefault("alphas", DEFAULT_RIDGE_ALPHAS)
    return RidgeCV(**params)


def _mlp(seed: int, **params: Any) -> Any:
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (256,),
        "early_stopping": True,
        "validation_fraction": 0.1,
        "alpha": 1e-3,
        "max_iter": 500,
        "random_state": seed,
    }
    settings.update(params)
    return make_pipeline(StandardScaler(), MLPRegressor(**settings))


@dataclass(frozen=True)
class MapperEntry:
    """One registry row: a factory ``(seed, **params) -> estimator`` and what it is."""

    factory: Callable[..., Any]
    description: str


MAPPERS: dict[str, MapperEntry] = {
    "plsr": MapperEntry(_plsr, "partial least squares regression, 50 components capped by data (Wold 1984)"),
    "ridge": MapperEntry(_ridge, "multi-output ridge, penalty by leave-one-out inside each training fold"),
    "mlp": MapperEntry(_mlp, "one-hidden-layer MLP on standardised inputs, early stopping, seeded"),
}


class UnknownMapperError(LookupError):
    """Raised for a name not in ``MAPPERS``; the message suggests the closest registered names."""


def make_mapper(name: str, *, seed: int = 0, **params: Any) -> Any:
    """Build a fresh, unfitted scikit-learn estimator for the registered mapper ``name``."""
    try:
        entry = MAPPERS[name]
    except KeyError:
        raise UnknownMapperError(unknown_name_message("mapper", name, MAPPERS)) from None
    return entry.factory(seed, **params)


def rotation_equivariant(mapper: Any) -> bool:
    """True when fitting on ``Y @ Q`` (``Q`` orthogonal) predicts exactly ``prediction @ Q``.

    Linear least-squares fits are: PLS without scaling (its components depend on ``Y`` only through
    ``Y Yᵀ``) and ridge with one penalty for all targets (its leave-one-out error is a sum of squares over
    targets). Scaling the targets, per-target penalties or a nonlinear mapper break it.
    """
    if isinstance(mapper, CappedPLSRegression):
        return not mapper.scale
    if isinstance(mapper, RidgeCV):
        return not getattr(mapper, "alpha_per_target", False)
    return False


def describe_mapper(mapper: Any) -> dict[str, Any]:
    """JSON-friendly description of an estimator: class name and its scalar hyper-parameters."""
    params = {
        key: value
        for key, value in mapper.get_params(deep=True).items()
        if isinstance(value, (int, float, str, bool, type(None), tuple))
    }
    return {"estimator": type(mapper).__name__, "params": params}
