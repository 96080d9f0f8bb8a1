"""A fitted mapper as plain arrays, and its predictions computed from them — so a fit can be saved and applied later.

An audit saves the mappers its property probe fitted (one per cross-validation fold) beside ``audit.json``;
``edgeaudit compare`` feeds them a compressed variant's vectors without refitting and without the norms file.
Saving never pickles: a fitted mapper becomes a kind name plus named arrays, and ``predict_from_state``
recomputes exactly the estimator's own ``predict`` (same operations in the same order, so the same floats).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .mappers import CappedPLSRegression

MapperState = tuple[str, dict[str, np.ndarray]]  # (kind, arrays)


def _pls_state(pls: PLSRegression) -> dict[str, np.ndarray]:
    return {"x_mean": pls._x_mean, "coef": pls.coef_, "intercept": pls.intercept_}  # coef_ acts on centred X


def mapper_state(fitted: Any) -> MapperState:
    """``fitted`` (a mapper from ``make_mapper`` after ``fit``) as (kind, arrays); a TypeError for other estimators."""
    if isinstance(fitted, CappedPLSRegression):
        if fitted.algorithm == "nipals":
            return "pls-nipals", _pls_state(fitted.pls_)
        return "pls", {"x_scale": fitted.x_scale_, "x_mean": fitted.x_mean_, "coef": fitted.coef_,
                       "intercept": fitted.intercept_}
    if isinstance(fitted, RidgeCV):
        return "linear", {"coef": fitted.coef_, "intercept": np.asarray(fitted.intercept_)}
    if isinstance(fitted, Pipeline) and len(fitted.steps) == 2:
        scaler, mlp = fitted.steps[0][1], fitted.steps[1][1]
        if isinstance(scaler, StandardScaler) and isinstance(mlp, MLPRegressor):
            if mlp.out_activation_ != "identity" or mlp.activation not in _ACTIVATIONS:
                raise TypeError(f"an MLP with {mlp.activation}/{mlp.out_activation_} activations cannot be saved")
            arrays = {"mean": scaler.mean_, "scale": scaler.scale_,
                      "activation": np.asarray(list(_ACTIVATIONS).index(mlp.activation))}
            for i, (weights, bias) in enumerate(zip(mlp.coefs_, mlp.intercepts_, strict=True)):
                arrays[f"w{i}"], arrays[f"b{i}"] = weights, bias
            return "mlp", arrays
    raise TypeError(f"a fitted {type(fitted).__name__} cannot be saved as arrays")


def _relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0, out=a)


def _logistic(a: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(a, out=a)


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda a: a, "relu": _relu, "tanh": lambda a: np.tanh(a, out=a), "logistic": _logistic}


def _mlp_predict(arrays: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    hidden = (X - arrays["mean"]) / arrays["scale"]
    activate = list(_ACTIVATIONS.values())[int(arrays["activation"])]
    layers = sum(1 for name in arrays if name.startswith("w"))
    for i in range(layers):
        hidden = hidden @ arrays[f"w{i}"] + arrays[f"b{i}"]
        if i < layers - 1:
            hidden = activate(hidden)
    return hidden


def predict_from_state(state: MapperState, X: np.ndarray) -> np.ndarray:
    """What the saved mapper predicts for ``X`` ``[concept, dim]``: ``[concept, feature]``."""
    kind, arrays = state
    X = np.asarray(X, dtype=float)
    if kind == "pls":
        return (X / arrays["x_scale"] - arrays["x_mean"]) @ arrays["coef"] + arrays["intercept"]
    if kind == "pls-nipals":
        return ((X - arrays["x_mean"]) @ arrays["coef"].T + arrays["intercept"]).reshape(len(X), -1)
    if kind == "linear":
        return (X @ arrays["coef"].T + arrays["intercept"]).reshape(len(X), -1)
    if kind == "mlp":
        return _mlp_predict(arrays, X).reshape(len(X), -1)
    raise ValueError(f"unknown saved mapper kind {kind!r} (saved by a newer edgeaudit?)")
