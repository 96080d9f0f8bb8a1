"""Synthetic embeddings and feature norms with known structure, small enough for fast tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NormData:
    X: np.ndarray  # [concept, dim]
    Y: np.ndarray  # [concept, feature]
    concepts: list[str]
    categories: list[str]
    X_twin: np.ndarray  # [concept, dim] unrelated embeddings standing in for a random-init twin


def planted_linear(
    seed: int = 0, n: int = 120, dim: int = 30, features: int = 40, noise: float = 0.5
) -> NormData:
    """Norms = a fixed linear function of the embedding + noise; categories unrelated to both."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim))
    Y = X @ rng.normal(size=(dim, features)) / np.sqrt(dim) + noise * rng.normal(size=(n, features))
    return NormData(
        X, Y, [f"concept{i}" for i in range(n)], [f"cat{i % 6}" for i in range(n)], rng.normal(size=(n, dim))
    )


def clustered_by_category(
    seed: int = 0, n: int = 120, dim: int = 30, features: int = 40, n_categories: int = 6
) -> NormData:
    """Embeddings and norms both clustered by category, otherwise independent of each other."""
    rng = np.random.default_rng(seed)
    category = np.arange(n) % n_categories
    X = 2.0 * rng.normal(size=(n_categories, dim))[category] + rng.normal(size=(n, dim))
    Y = 2.0 * rng.normal(size=(n_categories, features))[category] + rng.normal(size=(n, features))
    return NormData(
        X, Y, [f"concept{i}" for i in range(n)], [f"cat{c}" for c in category], rng.normal(size=(n, dim))
    )


def binary_norms(seed: int = 0, n: int = 120, features: int = 40) -> np.ndarray:
    """Sparse 0/1 norms with varied per-feature rates (as presence/absence feature norms are)."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.05, 0.4, size=features)
    Y = (rng.random((n, features)) < rates).astype(float)
    Y[np.arange(n), rng.integers(0, features, n)] = 1.0  # every concept has at least one feature
    return Y
