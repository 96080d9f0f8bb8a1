"""Cross-validation by concept and by held-out category, shared by the real run and every control.

A control only says something about the real score when it differs from the real run in exactly one thing
(the norms, the embeddings, or the predictor). ``Splits`` are therefore built once per probe and handed to
``cross_validated_scores`` for every run, so each concept is held out in the same fold throughout.

- ``concept_kfold``: seeded, shuffled ``KFold`` over concepts (default 10 folds, as in Derby et al. 2019).
  Concepts that share a word (``bat (animal)``, ``bat (baseball)``) get the same embedding, so with ``words``
  they are kept in one fold (a shuffled ``GroupKFold``): otherwise one sense's norms would be learnt from the
  identical input of the other.
- ``category_held_out``: ``GroupKFold`` with categories as groups, so whole categories are unseen in training
  — the test of whether the map generalises beyond a category's shared features (cf. the "category"
  confound in property inference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold

from .mappers import make_mapper
from .metrics import (
    CANDIDATE_PROTOCOLS,
    EvalContext,
    MetricSpec,
    is_binary,
    resolve_metrics,
)


@dataclass(frozen=True)
class Splits:
    """Train/test index pairs covering every concept exactly once as a test concept."""

    name: str
    folds: tuple[tuple[np.ndarray, np.ndarray], ...]  # (train [concept], test [concept]) per fold

    @property
    def n_concepts(self) -> int:
        return int(sum(len(test) for _, test in self.folds))

    @property
    def fold_of(self) -> np.ndarray:  # [concept] index of the fold that holds the concept out
        out = np.full(self.n_concepts, -1)
        for i, (_, test) in enumerate(self.folds):
            out[test] = i
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n_folds": len(self.folds), "test_sizes": [len(t) for _, t in self.folds]}


def _check_partition(splits: Splits, n: int) -> Splits:
    tests = np.concatenate([test for _, test in splits.folds])
    if tests.size != n or np.unique(tests).size != n:
        raise ValueError(f"splits {splits.name!r} do not hold out each of the {n} concepts exactly once")
    return splits


def concept_kfold(n_concepts: int, folds: int = 10, *, seed: int = 0, words: Sequence[str] | None = None) -> Splits:
    """Seeded, shuffled K-fold over concepts; concepts with one word share a fold when ``words`` are given.

    Without repeated words the folds are exactly ``KFold``'s, so adding ``words`` changes nothing there.
    """
    if not 2 <= folds <= n_concepts:
        raise ValueError(f"need 2 <= folds <= number of concepts ({n_concepts}), got {folds}")
    placeholder = np.zeros((n_concepts, 1))
    if words is not None and len(set(words)) < len(words):
        if len(words) != n_concepts:
            raise ValueError(f"{len(words)} words for {n_concepts} concepts")
        n_groups = len(set(words))
        if folds > n_groups:
            raise ValueError(f"need folds <= number of distinct words ({n_groups}), got {folds}")
        grouped = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        pairs = tuple(grouped.split(placeholder, groups=np.asarray(words)))
        return _check_partition(Splits(f"concept-kfold-{folds}-by-word", pairs), n_concepts)
    kfold = KFold(n_splits=folds, shuffle=True, random_state=seed)
    pairs = tuple(kfold.split(placeholder))
    return _check_partition(Splits(f"concept-kfold-{folds}", pairs), n_concepts)


def category_held_out(categories: Sequence[Any], folds: int = 10) -> Splits:
    """``GroupKFold`` with categories as groups (folds capped at the number of categories, at least 2)."""
    groups = np.asarray([str(c) for c in categories])
    n_groups = np.unique(groups).size
    if n_groups < 2:
        raise ValueError(f"category-held-out needs at least 2 categories, got {n_groups}")
    n_splits = min(folds, n_groups)
    pairs = tuple(GroupKFold(n_splits=n_splits).split(np.zeros((groups.size, 1)), groups=groups))
    return _check_partition(Splits(f"category-held-out-{n_splits}", pairs), groups.size)


def training_thresholds(fitted: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per feature, the cut of ``fitted [concept, feature]`` with the best F1 against ``Y > 0``: ``[feature]``.

    Candidates are every "top k of the fitted values are positive" (k = 1..n); the cut sits halfway between the
    k-th and the next value. A feature no training concept has gets ``+inf`` (predict it for nobody).
    Only training concepts are seen, so the held-out F1 it gives is not tuned on the concepts it scores.
    """
    n, m = fitted.shape
    order = np.argsort(-fitted, axis=0, kind="stable")  # [rank, feature] -> concept
    ranked = np.take_along_axis(fitted, order, axis=0)  # [rank, feature] descending
    gold = np.take_along_axis(np.asarray(Y) > 0, order, axis=0)  # [rank, feature]
    n_pos = gold.sum(axis=0)  # [feature]
    k = np.arange(1, n + 1)[:, None]  # [rank, 1] predicted positives
    f1 = 2.0 * np.cumsum(gold, axis=0) / (k + n_pos[None, :])  # [rank, feature]
    best = np.argmax(f1, axis=0)  # [feature] index of the last predicted positive
    below = np.where(best + 1 < n, ranked[np.minimum(best + 1, n - 1), np.arange(m)], -np.inf)
    cut = (ranked[best, np.arange(m)] + below) / 2.0
    cut = np.where(np.isfinite(cut), cut, ranked[best, np.arange(m)] - 1.0)  # every concept positive
    return np.where(n_pos > 0, cut, np.inf)


@dataclass
class FoldPredictions:
    """Out-of-fold predictions, and the F1 cut each concept's fold chose on its training concepts."""

    P: np.ndarray  # [concept, feature]
    thresholds: np.ndarray | None  # [concept, feature]; None unless the norms are binary


@dataclass
class FoldFits:
    """The mapper fitted on each fold's training concepts, and (binary norms) the F1 cut each fold chose."""

    mappers: list[Any]  # per fold: a fitted estimator, or anything ``predict`` below accepts
    thresholds: np.ndarray | None  # [fold, feature]; None unless the norms are binary


def fit_folds(X: np.ndarray, Y: np.ndarray, mapper: Any, splits: Splits) -> FoldFits:
    """A clone of ``mapper`` fitted per training fold (the cuts need only the training concepts' fitted values)."""
    X = np.asarray(X, dtype=float)  # [concept, dim]
    Y = np.asarray(Y, dtype=float)  # [concept, feature]
    binary = is_binary(Y)
    mappers, cuts = [], []
    for train, _ in splits.folds:
        fitted = clone(mapper).fit(X[train], Y[train])
        mappers.append(fitted)
        if binary:
            in_sample = np.asarray(fitted.predict(X[train])).reshape(len(train), Y.shape[1])
            cuts.append(training_thresholds(in_sample, Y[train]))
    return FoldFits(mappers, np.stack(cuts) if binary else None)


def fold_predictions(fits: FoldFits, X: np.ndarray, splits: Splits, n_features: int, *,
                     predict: Any = None) -> FoldPredictions:
    """Each fold's mapper predicts that fold's held-out concepts from ``X`` — the vectors it was fitted on, or the
    same concepts' vectors from another model (a compressed variant). ``predict(mapper, X)`` defaults to the
    estimator's own ``predict``."""
    X = np.asarray(X, dtype=float)
    P = np.empty((len(X), n_features))
    thresholds = None if fits.thresholds is None else np.empty_like(P)
    for k, (_, test) in enumerate(splits.folds):
        mapper = fits.mappers[k]
        predicted = mapper.predict(X[test]) if predict is None else predict(mapper, X[test])
        P[test] = np.asarray(predicted).reshape(len(test), n_features)
        if thresholds is not None:
            thresholds[test] = fits.thresholds[k][None, :]
    return FoldPredictions(P, thresholds)


def cross_validated_predictions(X: np.ndarray, Y: np.ndarray, mapper: Any, splits: Splits) -> FoldPredictions:
    """A clone of ``mapper`` fitted per training fold predicts the fold's held-out concepts."""
    Y = np.asarray(Y, dtype=float)
    return fold_predictions(fit_folds(X, Y, mapper, splits), X, splits, Y.shape[1])


@dataclass
class CrossValScores:
    """Per-unit scores of one cross-validated run, keyed by metric name (units: concepts or features)."""

    per_unit: dict[str, np.ndarray]  # metric -> [unit]
    units: dict[str, str]  # metric -> "concept" | "feature"
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> reason

    @property
    def means(self) -> dict[str, float]:
        return {name: _nanmean(v) for name, v in self.per_unit.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"means": self.means, "units": dict(self.units), "skipped": dict(self.skipped)}


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def score_predictions(
    P: np.ndarray, Y: np.ndarray, metrics: Sequence[str | MetricSpec], context: EvalContext
) -> CrossValScores:
    """Apply each metric to out-of-fold predictions; binary-only metrics are skipped for other norms."""
    binary = is_binary(Y)
    scores = CrossValScores({}, {})
    for spec in resolve_metrics(metrics):
        if spec.binary_only and not binary:
            scores.skipped[spec.name] = "needs binary (0/1) norms"
            continue
        if spec.unit == "concept" and Y.shape[1] < 2:  # e.g. one concreteness rating per word
            scores.skipped[spec.name] = ("needs at least 2 features: a one-feature vector has no direction to "
                                         "compare and nothing to rank")
            continue
        scores.per_unit[spec.name] = np.asarray(spec.score(P, Y, context), dtype=float)
        scores.units[spec.name] = spec.unit
    return scores


def cross_validated_scores(
    X: np.ndarray,  # [concept, dim]
    Y: np.ndarray,  # [concept, feature]
    mapper: Any,
    splits: Splits,
    metrics: Sequence[str | MetricSpec],
    *,
    candidates: str = "fold",
    n_gold: np.ndarray | None = None,  # [concept] fixed gold-feature counts for precision@k
) -> CrossValScores:
    """Fit ``mapper`` (an estimator or a registered name) per fold, predict held-out concepts, score them."""
    if isinstance(mapper, str):
        mapper = make_mapper(mapper)
    if candidates not in CANDIDATE_PROTOCOLS:
        raise ValueError(f"candidates must be one of {CANDIDATE_PROTOCOLS}, got {candidates!r}")
    folds = cross_validated_predictions(X, Y, mapper, splits)
    context = EvalContext(splits.fold_of, candidates, n_gold, folds.thresholds)
    return score_predictions(folds.P, Y, metrics, context)


def average_runs(runs: Sequence[CrossValScores]) -> CrossValScores:
    """Per-unit mean over repeated runs of one control (e.g. shuffles), NaN-aware."""
    first = runs[0]
    per_unit = {}
    for name in first.per_unit:
        stacked = np.stack([r.per_unit[name] for r in runs])  # [run, unit]
        finite = np.isfinite(stacked)
        total = np.where(finite, stacked, 0.0).sum(axis=0)
        count = finite.sum(axis=0)
        per_unit[name] = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    return CrossValScores(per_unit, dict(first.units), dict(first.skipped))
