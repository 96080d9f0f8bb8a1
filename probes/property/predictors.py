"""Mapper-free predictors used as controls: nearest-neighbour copy and category mean.

Both are scikit-learn-style estimators, so they run through exactly the same folds and metrics as a mapper.

- ``NearestNeighbourCopy`` predicts the norms of the most cosine-similar *training* concept. It uses only the
  geometry of the embedding space: if it matches the mapper, the mapper has learnt nothing beyond "similar
  words have similar norms" (the neighbourhood confound of property inference).
- ``CategoryMean`` predicts the mean norm vector of the concept's category over the training concepts (the
  global training mean for a category absent from training). Its input is a column of integer category
  codes instead of embeddings: it knows the category and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from .metrics import cosine_matrix, row_blocks


class NearestNeighbourCopy(RegressorMixin, BaseEstimator):
    """Predict the norm vector of the training concept whose embedding is most cosine-similar."""

    def fit(self, X: np.ndarray, Y: np.ndarray) -> NearestNeighbourCopy:
        self.X_train_ = np.asarray(X, dtype=float)  # [train_concept, dim]
        self.Y_train_ = np.asarray(Y, dtype=float)  # [train_concept, feature]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:  # [concept, feature]
        X = np.asarray(X, dtype=float)
        nearest = np.empty(len(X), dtype=np.int64)
        for block in row_blocks(len(X), len(self.X_train_)):  # bounded memory for large norm sets
            nearest[block] = np.argmax(cosine_matrix(X[block], self.X_train_), axis=1)  # [concept, train_concept]
        return self.Y_train_[nearest]


class CategoryMean(RegressorMixin, BaseEstimator):
    """Predict the training mean norm vector of the concept's category; input ``X`` is ``[concept, 1]`` codes."""

    def fit(self, X: np.ndarray, Y: np.ndarray) -> CategoryMean:
        codes = np.asarray(X).reshape(len(X), -1)[:, 0].astype(int)  # [train_concept]
        Y = np.asarray(Y, dtype=float)
        self.global_mean_ = Y.mean(axis=0)  # [feature]
        self.means_ = {int(c): Y[codes == c].mean(axis=0) for c in np.unique(codes)}
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:  # [concept, feature]
        codes = np.asarray(X).reshape(len(X), -1)[:, 0].astype(int)
        return np.stack([self.means_.get(int(c), self.global_mean_) for c in codes])


def category_codes(categories: Sequence[Any]) -> np.ndarray:
    """Categories -> integer codes as a ``[concept, 1]`` float column (the input of ``CategoryMean``)."""
    _, codes = np.unique(np.asarray([str(c) for c in categories]), return_inverse=True)
    return codes.reshape(-1, 1).astype(float)
