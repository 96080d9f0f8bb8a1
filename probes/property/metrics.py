"""Scores of predicted feature-norm vectors against gold ones, per unit (concept or feature).

All metrics take the out-of-fold predictions ``P [concept, feature]`` and gold norms ``Y [concept, feature]``
of every concept (each concept predicted by the fold that held it out), return one score per unit so that
bootstrap intervals and paired margins can be computed, and are higher-is-better.

- **neighbour score@k** (Derby et al. 2019, following Fagarasan et al. 2015): rank the cosine similarity of a
  concept's predicted vector to the gold vectors of the *candidate* concepts; a hit when its own gold vector
  is among the top ``k``. Ties count against the concept (rank = number of candidates at least as similar
  as its own gold vector), so a constant or zero prediction never scores. Candidates are a parameter:
  ``"fold"`` (default) — the gold vectors of the concepts held out in the same fold, so chance is
  ``k / fold size`` (≈ 2% for neighbour@1 with 10 folds of McRae's 541 concepts); ``"all"`` — the gold
  vectors of all concepts in the evaluation set (training and test), chance ``k / n``.
- **feature precision@k** (Derby et al. 2019): with ``k`` the number of gold features of the concept, the
  fraction of its ``k`` highest predicted features that are among its ``k`` highest gold features. For sparse
  non-negative norms these are exactly its gold (positive) features; ``n_gold`` may fix ``k`` per concept
  (the rotated-norm control keeps the real ``k``, since its rotated vectors are dense).
- **Spearman**, tie-aware: rank correlation of a concept's predicted and gold vectors over features, in
  expectation over a random order of tied *predictions*. Gold ties are real (sparse norms are mostly 0) and
  keep average ranks; a tied prediction says nothing about order, so it is not allowed to shrink the
  prediction's rank variance. With plain average ranks on both sides a 0/1 copy of a neighbour's norms beats
  a continuous prediction that orders the same features identically (it scores 1 where the continuous one
  cannot), which let the nearest-neighbour copy "reach" real probes through ties. Here the two score the
  same, and a constant prediction scores 0 (chance) instead of NaN. NaN only for a constant gold vector.
- **feature F1** (binary norms only): per feature, F1 of ``P > threshold`` against ``Y > 0`` over all concepts.
  The threshold is the feature's own, chosen on the training concepts of the fold that held the concept out
  (the cut of the fitted training predictions with the best training F1; ``crossval.training_thresholds``):
  a fixed 0.5 predicts almost nothing for a feature 2% of concepts have, so F1 read ~0.007 everywhere.
  Without thresholds in the context it falls back to 0.5. Features without a positive concept are NaN.

``rotation_invariant`` marks metrics that depend on the predicted and gold vectors only through cosines
(neighbour score@k): with a mapper that is equivariant to rotating the norms (linear PLS without scaling,
ridge) they score rotated nonsense norms exactly as the real ones, so that control says nothing for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from .._names import unknown_name_message

CANDIDATE_PROTOCOLS = ("fold", "all")
DEFAULT_METRICS: tuple[str, ...] = (
    "neighbour@1",
    "neighbour@5",
    "neighbour@10",
    "feature_precision",
    "spearman",
)


def cosine_matrix(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosine similarity ``[a, b]`` of rows of ``A [a, d]`` and ``B [b, d]``; 0 where a row is all zeros."""
    na = np.linalg.norm(A, axis=1, keepdims=True)
    nb = np.linalg.norm(B, axis=1, keepdims=True)
    A = np.divide(A, na, out=np.zeros_like(A, dtype=float), where=na > 0)
    B = np.divide(B, nb, out=np.zeros_like(B, dtype=float), where=nb > 0)
    return A @ B.T


BLOCK_ENTRIES = 1 << 22
"""Similarities computed at once (32 MB of float64): a [concept, candidate] matrix of 40,000 concepts (Brysbaert's
norms) would take 12.8 GB, so rows are ranked in blocks (and per fold when candidates are the fold's)."""


def row_blocks(n_rows: int, n_columns: int) -> list[slice]:
    """Row slices of at most ``BLOCK_ENTRIES`` entries each (at least one row)."""
    step = max(1, BLOCK_ENTRIES // max(n_columns, 1))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def neighbour_ranks(P: np.ndarray, Y: np.ndarray, *, groups: np.ndarray | None = None) -> np.ndarray:
    """Rank (1 = best, ties pessimistic) of each concept's own gold vector among its candidates: ``[concept]``.

    ``groups[i]`` is the fold of concept ``i`` (candidates = same fold) or ``None`` (candidates = all).
    Computed block by block, so memory does not grow with the square of the number of concepts.
    """
    ranks = np.zeros(len(P), dtype=np.int64)
    members = [np.arange(len(P))] if groups is None else \
        [np.flatnonzero(np.asarray(groups) == g) for g in np.unique(groups)]
    for rows in members:
        gold = Y[rows]
        for block in row_blocks(len(rows), len(rows)):
            sim = cosine_matrix(P[rows[block]], gold)  # [concept in block, candidate]
            own = sim[np.arange(sim.shape[0]), np.arange(block.start, block.stop)][:, None]
            ranks[rows[block]] = (sim >= own).sum(axis=1)
    return ranks


def neighbour_score(
    P: np.ndarray, Y: np.ndarray, k: int = 1, *, groups: np.ndarray | None = None
) -> np.ndarray:  # [concept] 0/1
    """Neighbour score@k hits (Derby et al. 2019); see the module docstring for candidates and ties."""
    return (neighbour_ranks(P, Y, groups=groups) <= k).astype(float)


def neighbour_chance(k: int, *, groups: np.ndarray | None, n: int) -> float:
    """Expected neighbour score@k of a prediction unrelated to the gold vectors: mean of ``min(k, m) / m``."""
    if groups is None:
        m = np.full(n, n)
    else:
        _, inverse, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
        m = counts[inverse]  # [concept] candidate counts: the size of its group
    return float(np.mean(np.minimum(k, m) / m))


def gold_feature_counts(Y: np.ndarray) -> np.ndarray:
    """Number of gold (positive) features per concept: ``[concept]``."""
    return (np.asarray(Y) > 0).sum(axis=1)


def _top_k_mask(values: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``[row, col]`` True for the ``k[row]`` largest entries of each row (stable order breaks ties)."""
    order = np.argsort(-values, axis=1, kind="stable")  # [row, rank] -> column
    ranks = np.argsort(order, axis=1)  # [row, column] -> rank
    return ranks < k[:, None]


def feature_precision(P: np.ndarray, Y: np.ndarray, *, n_gold: np.ndarray | None = None) -> np.ndarray:
    """Feature precision@k per concept, ``k`` = its number of gold features (NaN when ``k`` is 0)."""
    k = gold_feature_counts(Y) if n_gold is None else np.asarray(n_gold, dtype=int)
    hits = (_top_k_mask(P, k) & _top_k_mask(Y, k)).sum(axis=1)
    out = np.full(len(P), np.nan)
    np.divide(hits, k, out=out, where=k > 0)
    return out


def concept_spearman(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Tie-aware Spearman of each concept's predicted and gold vectors over features: ``[concept]``.

    The expected Spearman when tied predictions are put in a random order: the covariance of average ranks is
    already that expectation, and every tie-free ranking of ``m`` values has variance ``(m² − 1) / 12``, so
    the prediction side uses that variance whatever its ties (see the module docstring for why).
    """
    rp = rankdata(P, axis=1)
    ry = rankdata(Y, axis=1)
    rp -= rp.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    m = P.shape[1]
    num = (rp * ry).sum(axis=1)
    untied_ss = m * (m * m - 1) / 12.0  # sum of squared centred ranks of any tie-free ranking
    den = np.sqrt(untied_ss * (ry**2).sum(axis=1))
    out = np.full(len(P), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def is_binary(Y: np.ndarray) -> bool:
    """True when every norm value is 0 or 1 (presence/absence norms)."""
    return bool(np.isin(np.asarray(Y), (0, 1)).all())


def feature_f1(P: np.ndarray, Y: np.ndarray, *, threshold: float | np.ndarray = 0.5) -> np.ndarray:  # [feature]
    """Per-feature F1 of ``P > threshold`` against ``Y > 0`` over concepts (NaN for features never gold).

    ``threshold`` is one number or ``[concept, feature]`` (each concept's fold's training-chosen cut).
    """
    pred = np.asarray(P) > threshold
    gold = np.asarray(Y) > 0
    tp = (pred & gold).sum(axis=0)
    denom = pred.sum(axis=0) + gold.sum(axis=0)
    out = np.full(pred.shape[1], np.nan)
    np.divide(2.0 * tp, denom, out=out, where=gold.any(axis=0))
    return out


@dataclass(frozen=True)
class EvalContext:
    """What a metric may need besides ``P`` and ``Y``: folds, candidate protocol, fixed gold counts."""

    fold_of: np.ndarray  # [concept] fold that held the concept out
    candidates: str = "fold"
    n_gold: np.ndarray | None = None  # [concept] overrides gold_feature_counts(Y)
    thresholds: np.ndarray | None = None  # [concept, feature] F1 cut chosen on the concept's training fold

    @property
    def groups(self) -> np.ndarray | None:
        return self.fold_of if self.candidates == "fold" else None


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: per-unit score function, its unit, and whether it needs binary norms."""

    name: str
    score: Callable[[np.ndarray, np.ndarray, EvalContext], np.ndarray]
    unit: str  # "concept" or "feature"
    binary_only: bool
    description: str
    rotation_invariant: bool = False  # depends on P and Y only through cosines (see the module docstring)


def _neighbour(k: int) -> MetricSpec:
    return MetricSpec(
        f"neighbour@{k}",
        lambda P, Y, ctx: neighbour_score(P, Y, k, groups=ctx.groups),
        "concept",
        False,
        f"own gold vector among the {k} most cosine-similar candidates (Derby et al. 2019)",
        rotation_invariant=True,
    )


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _neighbour(1),
        _neighbour(5),
        _neighbour(10),
        MetricSpec(
            "feature_precision",
            lambda P, Y, ctx: feature_precision(P, Y, n_gold=ctx.n_gold),
            "concept",
            False,
            "share of the top-k predicted features that are gold, k = gold feature count",
        ),
        MetricSpec(
            "spearman",
            lambda P, Y, ctx: concept_spearman(P, Y),
            "concept",
            False,
            "Spearman of predicted vs gold vector per concept (prediction ties in random order, in expectation)",
        ),
        MetricSpec(
            "feature_f1",
            lambda P, Y, ctx: feature_f1(P, Y, threshold=0.5 if ctx.thresholds is None else ctx.thresholds),
            "feature",
            True,
            "per-feature F1, each feature cut where its training concepts score best (binary norms only)",
        ),
    )
}


class UnknownMetricError(LookupError):
    """Raised for a metric name that is neither registered nor of the form ``neighbour@<k>``."""


def get_metric(name: str) -> MetricSpec:
    """Look a metric up by name; ``neighbour@<k>`` works for any positive ``k``."""
    if name in METRICS:
        return METRICS[name]
    match = re.fullmatch(r"neighbour@(\d+)", name)
    if match and int(match.group(1)) > 0:
        return _neighbour(int(match.group(1)))
    raise UnknownMetricError(unknown_name_message("metric", name, METRICS))


def resolve_metrics(metrics: Sequence[str | MetricSpec]) -> list[MetricSpec]:
    """Names or specs -> specs (unknown names raise with the closest registered ones)."""
    return [m if isinstance(m, MetricSpec) else get_metric(m) for m in metrics]
