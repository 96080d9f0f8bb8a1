"""The registry of property-probe controls: each a recipe that changes one input of the real run.

A property-inference score is only evidence of knowledge in the model if no model-free explanation reaches it
(seed paper; "Prediction is not Explanation", arXiv 2508.13729). Every control here is a ``ControlEntry``
whose ``build`` turns the real run's ``ProbeSetup`` into one or more ``ControlRun`` s — the real run with
*one* thing replaced (the norms, the embeddings, the predictor or the split). Mapper, hyper-parameters and
folds are the real run's, so a difference in score is due to that one thing.

``requires`` names what the caller must supply: ``"categories"`` (a category per concept) or ``"twin"`` (the
embeddings of a random-init twin of the model). Adding a control = one builder + one registry row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._names import unknown_name_message
from .control_data import (
    control_task_norms,
    frequency_matched_norms,
    gaussian_embeddings,
    rotated_norms,
    shuffled_norms,
)
from .crossval import Splits, category_held_out
from .metrics import gold_feature_counts
from .predictors import CategoryMean, NearestNeighbourCopy, category_codes


@dataclass(frozen=True)
class ProbeSetup:
    """Everything the real run uses; controls derive their runs from it."""

    X: np.ndarray  # [concept, dim]
    Y: np.ndarray  # [concept, feature]
    concepts: tuple[str, ...]
    mapper: Any  # unfitted scikit-learn estimator, cloned per fold
    splits: Splits
    seed: int = 0
    n_shuffles: int = 100
    categories: tuple[str, ...] | None = None
    X_twin: np.ndarray | None = None  # [concept, twin_dim]

    def _rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, salt])


@dataclass(frozen=True)
class ControlRun:
    """The inputs of one cross-validated run of a control."""

    X: np.ndarray  # [concept, dim]
    Y: np.ndarray  # [concept, feature]
    predictor: Any
    splits: Splits
    n_gold: np.ndarray | None = None  # [concept] gold-feature counts for precision@k (None: from Y)


@dataclass(frozen=True)
class ControlEntry:
    """One registry row: recipe, one-line description, and what it needs from the caller."""

    build: Callable[[ProbeSetup], Iterable[ControlRun]]
    description: str
    requires: frozenset[str] = frozenset()
    permutation: bool = False  # runs are draws from a permutation null: report a p-value
    nonsense: bool = False  # flag metrics that score these nonsense norms as well as the real ones
    margin_name: str = "margin"  # what real − control is called ("selectivity" for control tasks)


def _with_norms(setup: ProbeSetup, Y: np.ndarray, n_gold: np.ndarray | None = None) -> ControlRun:
    return ControlRun(setup.X, Y, setup.mapper, setup.splits, n_gold)


def _with_embeddings(setup: ProbeSetup, X: np.ndarray) -> ControlRun:
    return ControlRun(X, setup.Y, setup.mapper, setup.splits)


def _control_task(setup: ProbeSetup) -> list[ControlRun]:
    return [_with_norms(setup, control_task_norms(setup.Y, setup.concepts, seed=setup.seed))]


def _shuffled(setup: ProbeSetup) -> Iterator[ControlRun]:
    rng = setup._rng(1)  # a generator, so only one shuffled copy of Y is alive at a time
    for _ in range(setup.n_shuffles):
        yield _with_norms(setup, shuffled_norms(setup.Y, rng))


def _frequency_matched(setup: ProbeSetup) -> list[ControlRun]:
    return [_with_norms(setup, frequency_matched_norms(setup.Y, setup._rng(2)))]


def _rotated(setup: ProbeSetup) -> list[ControlRun]:
    # precision@k keeps each concept's real k: the rotated vectors are dense, but the question is the same
    return [_with_norms(setup, rotated_norms(setup.Y, setup._rng(3)), gold_feature_counts(setup.Y))]


def _gaussian(setup: ProbeSetup) -> list[ControlRun]:
    scale = float(np.std(setup.X)) or 1.0
    X = gaussian_embeddings(setup.concepts, setup.X.shape[1], seed=setup.seed, scale=scale)
    return [_with_embeddings(setup, X)]


def _twin(setup: ProbeSetup) -> list[ControlRun]:
    assert setup.X_twin is not None
    return [_with_embeddings(setup, setup.X_twin)]


def _nearest_neighbour(setup: ProbeSetup) -> list[ControlRun]:
    return [ControlRun(setup.X, setup.Y, NearestNeighbourCopy(), setup.splits)]


def _category_mean(setup: ProbeSetup) -> list[ControlRun]:
    assert setup.categories is not None
    return [ControlRun(category_codes(setup.categories), setup.Y, CategoryMean(), setup.splits)]


def _category_held_out(setup: ProbeSetup) -> list[ControlRun]:
    assert setup.categories is not None
    splits = category_held_out(setup.categories, len(setup.splits.folds))
    return [ControlRun(setup.X, setup.Y, setup.mapper, splits)]


CONTROLS: dict[str, ControlEntry] = {
    "control_task": ControlEntry(
        _control_task,
        "each concept type gets a random real norm vector, fixed per type (Hewitt & Liang 2019)",
        margin_name="selectivity",
    ),
    "shuffled_pairing": ControlEntry(
        _shuffled, "concepts re-paired with norm vectors at random; permutation p-value", permutation=True
    ),
    "frequency_matched_norms": ControlEntry(
        _frequency_matched, "random norms with each feature's frequency matched (Bernoulli / column shuffle)"
    ),
    "rotated_norms": ControlEntry(
        _rotated, "Y @ Q, Q random orthogonal: real concept geometry, meaningless features", nonsense=True
    ),
    "gaussian_embeddings": ControlEntry(_gaussian, "a fixed random Gaussian vector per word, same dimension"),
    "random_init_twin": ControlEntry(
        _twin, "embeddings of the randomly initialised twin model", requires=frozenset({"twin"})
    ),
    "nearest_neighbour_copy": ControlEntry(
        _nearest_neighbour, "copy the norms of the most cosine-similar training concept (no mapper)"
    ),
    "category_mean": ControlEntry(
        _category_mean,
        "predict the training mean norm vector of the concept's category",
        requires=frozenset({"categories"}),
    ),
    "category_held_out": ControlEntry(
        _category_held_out,
        "the real probe with whole categories held out (GroupKFold)",
        requires=frozenset({"categories"}),
    ),
}


class UnknownControlError(LookupError):
    """Raised for a control name not in ``CONTROLS``; the message suggests the closest ones."""


def get_control(name: str) -> ControlEntry:
    """Look a control up by registry name."""
    try:
        return CONTROLS[name]
    except KeyError:
        raise UnknownControlError(unknown_name_message("control", name, CONTROLS)) from None


def missing_requirements(entry: ControlEntry, setup: ProbeSetup) -> list[str]:
    """What ``setup`` lacks for ``entry`` (empty when the control can run)."""
    available = {"categories": setup.categories is not None, "twin": setup.X_twin is not None}
    return sorted(req for req in entry.requires if not available.get(req, False))
