"""Control norms and control embeddings: data with the real data's statistics but none of its meaning.

Each function returns arrays shaped like the real ones; the controls module runs them through the same mapper
and folds as the real probe. Randomness is seeded; where a control must be *type-level* (Hewitt & Liang 2019,
"Designing and interpreting probes with control tasks": a word type always gets the same control output),
each concept draws from its own generator seeded by ``(seed, salt, hash of the concept name)``, so a concept
gets the same control vector whenever it appears — twice in one call, in another call, or next to other
concepts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def _stable_int(text: str) -> int:
    """A platform- and process-independent 64-bit integer for a string (Python's ``hash`` is salted)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def type_rng(concept: str, *, seed: int, salt: str) -> np.random.Generator:
    """The generator of one concept type for one control (same inputs -> same stream)."""
    return np.random.default_rng([seed, _stable_int(salt), _stable_int(str(concept))])


def type_level_rows(
    concepts: Sequence[str], n_rows: int, *, seed: int, salt: str = "control_task"
) -> np.ndarray:
    """For each concept, one row index in ``[0, n_rows)`` fixed by its type: ``[concept]``."""
    return np.array([type_rng(c, seed=seed, salt=salt).integers(n_rows) for c in concepts], dtype=int)


def control_task_norms(Y: np.ndarray, concepts: Sequence[str], *, seed: int) -> np.ndarray:
    """Type-level control task (Hewitt & Liang 2019) for feature norms: ``[concept, feature]``.

    Each concept type gets the norm vector of a real concept drawn uniformly (with replacement) — a draw from
    the empirical distribution of real norm vectors. Whole rows are drawn, rather than each feature apart, so
    a control vector keeps the sparsity and feature co-occurrences of real ones; per-feature rates match the
    real ones in expectation. A concept may draw its own row (probability ``1 / n``).
    """
    Y = np.asarray(Y)
    return Y[type_level_rows(concepts, len(Y), seed=seed, salt="control_task")]


def type_level_labels(y: np.ndarray, types: Sequence[str], *, seed: int) -> np.ndarray:
    """Control-task labels (Hewitt & Liang 2019): each type gets a label drawn from the empirical labels."""
    y = np.asarray(y)
    return y[type_level_rows(types, len(y), seed=seed, salt="control_labels")]


def shuffled_norms(Y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random re-pairing of concepts and norm vectors (rows of ``Y`` permuted): ``[concept, feature]``."""
    return np.asarray(Y)[rng.permutation(len(Y))]


def frequency_matched_norms(Y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random norms with each feature's frequency matched: ``[concept, feature]``.

    Binary norms: each entry ``Bernoulli(rate of its feature)``. Continuous norms (e.g. production
    frequencies): each feature's column shuffled independently, which keeps its values exactly. Either way
    concept-level structure and feature co-occurrence are destroyed.
    """
    Y = np.asarray(Y)
    if np.isin(Y, (0, 1)).all():
        rates = Y.mean(axis=0)  # [feature]
        return (rng.random(Y.shape) < rates).astype(Y.dtype)
    return rng.permuted(Y, axis=0)


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random orthogonal matrix ``[n, n]``: QR of a Gaussian matrix with the sign fix (Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))[None, :]


def rotated_norms(Y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Nonsense norms with the real geometry: ``Y @ Q`` for a random orthogonal ``Q`` — ``[concept, feature]``.

    Every concept-to-concept dot product and cosine is unchanged, but a "feature" is now a random mixture of
    all features and means nothing. A metric that scores these as well as the real norms measures geometry,
    not knowledge of features.
    """
    Y = np.asarray(Y, dtype=float)
    return Y @ random_orthogonal(Y.shape[1], rng)


def gaussian_embeddings(
    concepts: Sequence[str], dim: int, *, seed: int, scale: float = 1.0
) -> np.ndarray:  # [concept, dim]
    """One fixed Gaussian vector per word type (``N(0, scale²)``), the same whenever the word appears."""
    return np.stack(
        [scale * type_rng(c, seed=seed, salt="gaussian_embeddings").standard_normal(dim) for c in concepts]
    )
