"""Undirected trees extracted from attention, scored by UUAS against the gold dependency tree.

Raganato & Tiedemann (2018) and Clark et al. (2019) read a tree out of a head by taking the maximum spanning
tree of its word-to-word attention; Hewitt & Manning (2019) score such trees by UUAS (fraction of gold
undirected edges recovered). Here, for every head and for the head-averaged attention of every layer:

1. restrict the word-level attention to the scored words (punctuation removed by default, as in Hewitt &
   Manning; see ``probes._trees`` for how punctuation with dependents is contracted);
2. symmetrise, ``W = (A + Aᵀ) / 2``, because an undirected edge may be expressed in either direction;
3. take the maximum spanning tree (``scipy.sparse.csgraph.minimum_spanning_tree`` on shifted, negated
   weights — scipy reads zero weights as missing edges, so the costs are made strictly positive);
4. count shared undirected edges. UUAS is corpus-level: correct edges / gold edges over all sentences.

Controls, on the same words: the right-branching chain and uniformly random spanning trees
(``probes.tree_baselines``). Sentences with fewer than two scored words carry no edges and are counted as
skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._serialise import jsonable
from ._trees import (
    count_shared_edges_batch,
    spanning_tree_edges,
    spanning_trees,
    validate_heads,
)
from .tree_baselines import TreeBaselineCounts, scored_gold_tree


def symmetrise(attn: np.ndarray) -> np.ndarray:
    """``(A + Aᵀ) / 2`` over the last two axes: ``[..., word, word]`` -> same shape."""
    return 0.5 * (attn + np.swapaxes(attn, -1, -2))


def attention_tree_edges(attn: np.ndarray) -> np.ndarray:
    """Maximum spanning tree of one symmetrised attention matrix.

    ``attn`` is ``[word_from, word_to]``; returns ``[word - 1, 2]`` undirected edges (i < j).
    """
    attn = np.asarray(attn, dtype=np.float64)
    if attn.ndim != 2 or attn.shape[0] != attn.shape[1]:
        raise ValueError(f"attn must be a square [word_from, word_to] matrix, got shape {attn.shape}")
    return spanning_tree_edges(symmetrise(attn), maximize=True)


@dataclass
class AttentionTreeResult:
    """UUAS of attention trees per head and per layer (head-averaged), with tree baselines."""

    per_head: np.ndarray  # [layer, head] UUAS
    layer_mean: np.ndarray  # [layer] UUAS of the tree from head-averaged attention
    chain: float  # right-branching chain UUAS
    random_tree: float  # uniform random spanning tree UUAS (sampled, seeded)
    random_tree_expected: float  # closed-form expectation of the same
    num_edges: int  # gold edges scored
    num_sentences: int  # sentences scored
    skipped_sentences: int  # fewer than two scored words
    exclude_punct: bool
    random_samples: int
    seed: int

    def best_head(self) -> tuple[int, int, float]:
        """``(layer, head, uuas)`` of the highest-scoring head (ties go to the lowest index)."""
        layer, head = np.unravel_index(int(np.argmax(self.per_head)), self.per_head.shape)
        return int(layer), int(head), float(self.per_head[layer, head])

    def to_dict(self) -> dict[str, Any]:
        layer, head, uuas = self.best_head()
        return jsonable(
            {
                "probe": "attention_tree_uuas",
                "per_head": self.per_head.tolist(),
                "layer_mean": self.layer_mean.tolist(),
                "best_head": {"layer": layer, "head": head, "uuas": uuas},
                "baselines": {
                    "chain": self.chain,
                    "random_tree": self.random_tree,
                    "random_tree_expected": self.random_tree_expected,
                },
                "num_edges": self.num_edges,
                "num_sentences": self.num_sentences,
                "skipped_sentences": self.skipped_sentences,
                "exclude_punct": self.exclude_punct,
                "random_samples": self.random_samples,
                "seed": self.seed,
            }
        )


@dataclass(frozen=True)
class SentenceTreeHits:
    """One sentence's correct undirected edges per head and per layer average, out of ``gold_edges``."""

    per_head: np.ndarray  # [layer, head] int
    layer_mean: np.ndarray  # [layer] int
    gold_edges: int


class AttentionTreeUUAS:
    """Streaming collector: attention-tree UUAS per head and per layer, plus chain/random baselines.

    Memory is ``O(layers × heads)``. The random-tree baseline draws from one generator seeded at
    construction, so the same seed and the same sentence order give the same result.
    """

    def __init__(
        self,
        num_layers: int,
        num_heads: int,
        *,
        exclude_punct: bool = True,
        random_samples: int = 10,
        seed: int = 0,
    ):
        if num_layers < 1 or num_heads < 1:
            raise ValueError("num_layers and num_heads must be >= 1")
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.exclude_punct = exclude_punct
        self.random_samples = random_samples
        self.seed = seed
        self.num_sentences = 0
        self.skipped_sentences = 0
        self._head_correct = np.zeros((num_layers, num_heads), dtype=np.int64)  # [layer, head]
        self._layer_correct = np.zeros(num_layers, dtype=np.int64)  # [layer]
        self._baselines = TreeBaselineCounts(samples=random_samples, seed=seed)

    def update(
        self,
        attn: np.ndarray,  # [layer, head, word_from, word_to]
        heads: np.ndarray,  # [word] 1-based, 0 = root
        is_punct: np.ndarray | None = None,  # [word] bool
    ) -> SentenceTreeHits:
        """Add one sentence; return its own correct-edge counts so callers can bootstrap over sentences."""
        heads = validate_heads(heads)
        n = heads.size
        attn = np.asarray(attn, dtype=np.float64)
        expected = (self.num_layers, self.num_heads, n, n)
        if attn.shape != expected:
            raise ValueError(f"attn must have shape [layer, head, word, word] = {expected}, got {attn.shape}")
        gold = scored_gold_tree(heads, is_punct, exclude_punct=self.exclude_punct)
        k = gold.size
        head_correct = np.zeros((self.num_layers, self.num_heads), dtype=np.int64)  # [layer, head]
        layer_correct = np.zeros(self.num_layers, dtype=np.int64)  # [layer]
        if k < 2:
            self.skipped_sentences += 1
            return SentenceTreeHits(head_correct, layer_correct, 0)
        self.num_sentences += 1
        sub = attn[:, :, gold.kept][:, :, :, gold.kept]  # [layer, head, kept, kept]
        # Every head's matrix and every layer's head mean: one batch of spanning trees per sentence.
        graphs = np.concatenate([sub.reshape(-1, k, k), sub.mean(axis=1)])  # [layer*head + layer, kept, kept]
        hits = count_shared_edges_batch(spanning_trees(symmetrise(graphs), maximize=True), gold.edges, k)
        head_correct[:] = hits[: self.num_layers * self.num_heads].reshape(self.num_layers, self.num_heads)
        layer_correct[:] = hits[self.num_layers * self.num_heads :]
        self._head_correct += head_correct
        self._layer_correct += layer_correct
        self._baselines.update(gold)
        return SentenceTreeHits(head_correct, layer_correct, len(gold.edges))

    def result(self) -> AttentionTreeResult:
        total = self._baselines.gold_edges
        denom = float(total) if total else float("nan")
        return AttentionTreeResult(
            per_head=self._head_correct / denom,
            layer_mean=self._layer_correct / denom,
            chain=self._baselines.chain_uuas(),
            random_tree=self._baselines.random_uuas(),
            random_tree_expected=self._baselines.random_expected_uuas(),
            num_edges=int(total),
            num_sentences=self.num_sentences,
            skipped_sentences=self.skipped_sentences,
            exclude_punct=self.exclude_punct,
            random_samples=self.random_samples,
            seed=self.seed,
        )
