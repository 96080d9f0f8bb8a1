"""Evaluation of predicted tree distances and depths, and the linear-chain baseline.

Metrics follow Hewitt & Manning (2019), "A structural probe for finding syntax in word representations", §3:

- **UUAS**: minimum spanning tree of the predicted distances over non-punctuation words, compared with the gold
  undirected edges (corpus level: correct edges / gold edges). Punctuation policy: ``probes._trees``.
- **Distance Spearman (DSpr.)**: for each word, Spearman correlation between its row of predicted distances
  and its row of gold distances (all words, as in the paper); averaged over the words of a sentence, then
  over the sentences of each length, then over the lengths in 5..50 (macro average across lengths, so the
  many short sentences do not dominate).
- **Depth Spearman (NSpr.)**: Spearman between predicted and gold depths per sentence, same averaging.
- **Root accuracy (root%)**: the shallowest predicted non-punctuation word is the gold root. Sentences whose
  root is punctuation are not scored for it.

Baseline: the linear chain, distance ``|i − j|`` and depth ``i`` — a structure any model of word order gets
for free.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import rankdata

from ._serialise import jsonable
from ._trees import count_shared_edges, spanning_tree_edges, tree_depths, tree_distances
from .tree_baselines import scored_gold_tree

LENGTH_RANGE: tuple[int, int] = (5, 50)


@dataclass
class DistanceMetrics:
    """UUAS and distance Spearman of predicted pairwise distances."""

    uuas: float
    spearman: float
    spearman_by_length: dict[int, float]
    num_sentences: int
    num_edges: int
    # per sentence [sentence]: MST edges shared with gold, and gold edges scored (the bootstrap pairs sentences)
    correct_by_sentence: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    edges_by_sentence: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "uuas": self.uuas,
                "spearman": self.spearman,
                "spearman_by_length": self.spearman_by_length,
                "num_sentences": self.num_sentences,
                "num_edges": self.num_edges,
            }
        )


@dataclass
class DepthMetrics:
    """Depth Spearman and root accuracy of predicted depths."""

    spearman: float
    spearman_by_length: dict[int, float]
    root_accuracy: float
    num_sentences: int

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "spearman": self.spearman,
                "spearman_by_length": self.spearman_by_length,
                "root_accuracy": self.root_accuracy,
                "num_sentences": self.num_sentences,
            }
        )


@dataclass
class StructuralBaseline:
    """Distance and depth metrics of a probe-free prediction (e.g. the linear chain)."""

    name: str
    distance: DistanceMetrics
    depth: DepthMetrics

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.name, "distance": self.distance.to_dict(), "depth": self.depth.to_dict()}


def rowwise_spearman(pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row pair: ``[row, item]`` x2 -> ``[row]`` (NaN for constant rows)."""
    rp = rankdata(pred, axis=1)
    rg = rankdata(gold, axis=1)
    rp -= rp.mean(axis=1, keepdims=True)
    rg -= rg.mean(axis=1, keepdims=True)
    num = (rp * rg).sum(axis=1)
    den = np.sqrt((rp**2).sum(axis=1) * (rg**2).sum(axis=1))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _macro_over_lengths(
    by_length: dict[int, list[float]], length_range: tuple[int, int]
) -> tuple[float, dict[int, float]]:
    lo, hi = length_range
    means = {n: float(np.mean(v)) for n, v in sorted(by_length.items()) if lo <= n <= hi and v}
    return (float(np.mean(list(means.values()))) if means else float("nan")), means


def _check_lengths(pred_seq: Sequence[np.ndarray], heads_seq: Sequence[np.ndarray], is_punct_seq) -> None:
    if len(pred_seq) != len(heads_seq):
        raise ValueError(f"{len(pred_seq)} predictions for {len(heads_seq)} sentences")
    if is_punct_seq is not None and len(is_punct_seq) != len(heads_seq):
        raise ValueError(f"{len(is_punct_seq)} punctuation masks for {len(heads_seq)} sentences")


def distance_metrics(
    pred_distances: Sequence[np.ndarray],  # per sentence [word, word]
    heads_seq: Sequence[np.ndarray],  # per sentence [word]
    is_punct_seq: Sequence[np.ndarray] | None = None,  # per sentence [word] bool
    *,
    length_range: tuple[int, int] = LENGTH_RANGE,
) -> DistanceMetrics:
    """UUAS (punctuation excluded) and macro-averaged distance Spearman of predicted distances."""
    _check_lengths(pred_distances, heads_seq, is_punct_seq)
    correct_by_sentence = np.zeros(len(heads_seq), dtype=np.int64)
    edges_by_sentence = np.zeros(len(heads_seq), dtype=np.int64)
    by_length: dict[int, list[float]] = defaultdict(list)
    for s, (pred, heads) in enumerate(zip(pred_distances, heads_seq, strict=True)):
        pred = np.asarray(pred, dtype=np.float64)
        n = len(heads)
        if pred.shape != (n, n):
            raise ValueError(f"sentence {s}: predicted distances have shape {pred.shape}, expected {(n, n)}")
        gold = scored_gold_tree(heads, None if is_punct_seq is None else is_punct_seq[s])
        if gold.size >= 2:
            sub = pred[np.ix_(gold.kept, gold.kept)]
            edges = spanning_tree_edges(0.5 * (sub + sub.T), maximize=False)
            correct_by_sentence[s] = count_shared_edges(edges, gold.edges, gold.size)
            edges_by_sentence[s] = len(gold.edges)
        if n >= 2:
            rho = rowwise_spearman(pred, tree_distances(heads))
            if np.any(np.isfinite(rho)):
                by_length[n].append(float(np.nanmean(rho)))
    spearman, per_length = _macro_over_lengths(by_length, length_range)
    correct, total = int(correct_by_sentence.sum()), int(edges_by_sentence.sum())
    return DistanceMetrics(
        uuas=correct / total if total else float("nan"),
        spearman=spearman,
        spearman_by_length=per_length,
        num_sentences=len(heads_seq),
        num_edges=total,
        correct_by_sentence=correct_by_sentence,
        edges_by_sentence=edges_by_sentence,
    )


def depth_metrics(
    pred_depths: Sequence[np.ndarray],  # per sentence [word]
    heads_seq: Sequence[np.ndarray],  # per sentence [word]
    is_punct_seq: Sequence[np.ndarray] | None = None,  # per sentence [word] bool
    *,
    length_range: tuple[int, int] = LENGTH_RANGE,
) -> DepthMetrics:
    """Macro-averaged depth Spearman and root accuracy (punctuation excluded) of predicted depths."""
    _check_lengths(pred_depths, heads_seq, is_punct_seq)
    roots_right = roots_scored = 0
    by_length: dict[int, list[float]] = defaultdict(list)
    for s, (pred, heads) in enumerate(zip(pred_depths, heads_seq, strict=True)):
        pred = np.asarray(pred, dtype=np.float64)
        n = len(heads)
        if pred.shape != (n,):
            raise ValueError(f"sentence {s}: predicted depths have shape {pred.shape}, expected {(n,)}")
        gold_depth = tree_depths(heads)
        gold = scored_gold_tree(heads, None if is_punct_seq is None else is_punct_seq[s])
        root = int(np.argmin(gold_depth))
        if root in gold.kept:
            roots_scored += 1
            roots_right += int(gold.kept[np.argmin(pred[gold.kept])] == root)
        if n >= 2:
            rho = rowwise_spearman(pred[None, :], gold_depth[None, :])[0]
            if np.isfinite(rho):
                by_length[n].append(float(rho))
    spearman, per_length = _macro_over_lengths(by_length, length_range)
    return DepthMetrics(
        spearman=spearman,
        spearman_by_length=per_length,
        root_accuracy=roots_right / roots_scored if roots_scored else float("nan"),
        num_sentences=len(heads_seq),
    )


def linear_chain_baseline(
    heads_seq: Sequence[np.ndarray],  # per sentence [word]
    is_punct_seq: Sequence[np.ndarray] | None = None,  # per sentence [word] bool
    *,
    length_range: tuple[int, int] = LENGTH_RANGE,
) -> StructuralBaseline:
    """Hewitt & Manning's linear-structure baseline: distance ``|i − j|``, depth ``i``."""
    distances = []
    depths = []
    for heads in heads_seq:
        pos = np.arange(len(heads), dtype=np.float64)
        distances.append(np.abs(pos[:, None] - pos[None, :]))
        depths.append(pos)
    return StructuralBaseline(
        name="linear_chain",
        distance=distance_metrics(distances, heads_seq, is_punct_seq, length_range=length_range),
        depth=depth_metrics(depths, heads_seq, is_punct_seq, length_range=length_range),
    )
