"""Structure-free tree baselines for UUAS: the right-branching chain and a uniformly random tree.

A tree-extraction score (attention trees, Raganato & Tiedemann 2018; structural probes, Hewitt & Manning
2019) only means something next to what a tree that ignores the model would score. Two such trees:

- the right-branching chain ``i — i+1`` (English dependency trees are close to it, so it is a strong control);
- a uniformly random spanning tree of the complete graph on the (non-punctuation) words, sampled with a seed
  and averaged over ``samples`` draws. Its expected UUAS has a closed form: each gold edge appears with
  probability ``2 / n`` in a uniform spanning tree of ``K_n``, so the expectation is reported alongside.

Both use the punctuation policy of ``probes._trees`` (punctuation removed, Hewitt & Manning 2019).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._trees import (
    chain_edges,
    count_shared_edges,
    gold_edges_without_punct,
    random_spanning_tree,
    reindex_edges,
    tree_edges,
    validate_heads,
    validate_punct,
)


@dataclass(frozen=True)
class GoldTree:
    """The gold tree restricted to the words that are scored. ``edges`` index into ``kept``."""

    kept: np.ndarray  # [kept_word] original word indices
    edges: np.ndarray  # [edge, 2] positions within kept, i < j

    @property
    def size(self) -> int:
        return int(self.kept.size)


def scored_gold_tree(
    heads: np.ndarray, is_punct: np.ndarray | None, *, exclude_punct: bool = True
) -> GoldTree:
    """Validate one sentence's tree and return the words and undirected edges UUAS is computed on."""
    heads = validate_heads(heads)
    punct = validate_punct(is_punct, heads.size)
    if exclude_punct:
        kept = np.flatnonzero(~punct)
        edges = gold_edges_without_punct(heads, punct)
    else:
        kept = np.arange(heads.size)
        edges = tree_edges(heads)
    return GoldTree(kept=kept, edges=reindex_edges(edges, kept, heads.size))


@dataclass
class TreeBaselineCounts:
    """Running edge counts of the chain and random-tree baselines (a small streaming collector)."""

    samples: int = 10
    seed: int = 0
    gold_edges: int = 0
    chain_correct: int = 0
    random_correct: float = 0.0
    random_expected: float = 0.0

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError("samples must be >= 1")
        self._rng = np.random.default_rng(self.seed)

    def update(self, gold: GoldTree) -> None:
        n = gold.size
        if n < 2:
            return
        self.gold_edges += len(gold.edges)
        self.chain_correct += count_shared_edges(chain_edges(n), gold.edges, n)
        hits = sum(
            count_shared_edges(random_spanning_tree(n, self._rng), gold.edges, n) for _ in range(self.samples)
        )
        self.random_correct += hits / self.samples
        self.random_expected += len(gold.edges) * 2.0 / n

    def chain_uuas(self) -> float:
        return self.chain_correct / self.gold_edges if self.gold_edges else float("nan")

    def random_uuas(self) -> float:
        return self.random_correct / self.gold_edges if self.gold_edges else float("nan")

    def random_expected_uuas(self) -> float:
        return self.random_expected / self.gold_edges if self.gold_edges else float("nan")


def chain_uuas(
    heads_seq: Sequence[np.ndarray],  # per sentence [word]
    is_punct_seq: Sequence[np.ndarray] | None = None,  # per sentence [word]
    *,
    exclude_punct: bool = True,
) -> float:
    """Corpus UUAS of the right-branching chain over the scored words."""
    correct = total = 0
    for s, heads in enumerate(heads_seq):
        gold = scored_gold_tree(
            heads, None if is_punct_seq is None else is_punct_seq[s], exclude_punct=exclude_punct
        )
        if gold.size >= 2:
            total += len(gold.edges)
            correct += count_shared_edges(chain_edges(gold.size), gold.edges, gold.size)
    return correct / total if total else float("nan")


def random_tree_uuas(
    heads_seq: Sequence[np.ndarray],  # per sentence [word]
    is_punct_seq: Sequence[np.ndarray] | None = None,  # per sentence [word]
    *,
    samples: int = 10,
    seed: int = 0,
    exclude_punct: bool = True,
) -> float:
    """Corpus UUAS of uniformly random spanning trees, averaged over ``samples`` draws per sentence."""
    counts = TreeBaselineCounts(samples=samples, seed=seed)
    for s, heads in enumerate(heads_seq):
        punct = None if is_punct_seq is None else is_punct_seq[s]
        counts.update(scored_gold_tree(heads, punct, exclude_punct=exclude_punct))
    return counts.random_uuas()
