"""Selection-honest scores: the winner of a best-of-K search, scored on units it was not chosen on.

A claim such as "head 2.8 tracks amod" names the best of 72 heads, and its controls name the best of 7 offsets or
the twin's best head. Choosing a winner and scoring it on the same sentences is optimistic (the winner's curse):
part of why it won is luck on those sentences, so its score, and its margin over a control chosen the same way,
are biased upward and do not replicate on a fresh sample. Cross-fitting removes that bias without wasting data:
the units (sentences, or sequences) are split into K seeded folds; for each fold the winner is chosen on the other
K−1 folds and scored on this one. Every unit is scored once, by a choice it took no part in, and the per-unit
held-out hits feed the paired bootstrap exactly as in-sample hits did. Claim and control are cross-fitted with the
same folds, so their margin compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CrossFit:
    """Held-out per-unit hits and denominators of a best-of-K selection, and the winner of each fold."""

    hits: np.ndarray  # [unit]
    counts: np.ndarray  # [unit]
    choices: tuple[int, ...]  # winning candidate per fold (chosen on the other folds)
    assignment: np.ndarray  # [unit] fold of each unit

    @property
    def score(self) -> float:
        total = float(self.counts.sum())
        return float(self.hits.sum()) / total if total else float("nan")

    def gather(self, table: np.ndarray) -> np.ndarray:
        """Per unit, column ``choices[fold]`` of ``table`` [unit, candidate]: another quantity of the same winners
        (e.g. the same head on a control input)."""
        picked = np.asarray(self.choices)[self.assignment]
        return np.asarray(table, dtype=np.float64)[np.arange(table.shape[0]), picked]


def fold_assignment(n_units: int, folds: int, seed: int) -> np.ndarray:
    """[unit] fold index in 0..folds-1, balanced and seeded (the same seed gives the same folds)."""
    if folds < 2:
        raise ValueError(f"cross-fitting needs at least 2 folds, got {folds}")
    order = np.random.default_rng(seed).permutation(n_units)
    assignment = np.empty(n_units, dtype=np.int64)
    assignment[order] = np.arange(n_units) % folds
    return assignment


def cross_fit(hits: np.ndarray, counts: np.ndarray, assignment: np.ndarray) -> CrossFit:
    """Cross-fitted winner of ``hits`` [unit, candidate] over ``counts`` ([unit], or [unit, candidate] when the
    candidates have their own denominators). Ties go to the first candidate, as in a full-data argmax."""
    hits = np.asarray(hits, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    per_candidate = counts if counts.ndim == 2 else np.broadcast_to(counts[:, None], hits.shape)
    folds = int(assignment.max()) + 1 if assignment.size else 0
    choices = []
    for fold in range(folds):
        train = assignment != fold
        num, den = hits[train].sum(axis=0), per_candidate[train].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(den > 0, num / np.where(den > 0, den, 1.0), -np.inf)
        choices.append(int(np.argmax(rate)))
    result = CrossFit(np.zeros(hits.shape[0]), np.zeros(hits.shape[0]), tuple(choices), assignment)
    return CrossFit(result.gather(hits), result.gather(per_candidate), result.choices, assignment)
