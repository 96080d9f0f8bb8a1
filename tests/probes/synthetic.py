"""Seeded synthetic sentences for probe tests: random valid trees, planted attention, tree-shaped vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RELATIONS = ("nsubj", "obj", "amod", "det", "advmod", "case")


@dataclass
class Sentence:
    heads: np.ndarray  # [word] 1-based, 0 = root
    relations: list[str]  # [word]
    is_punct: np.ndarray  # [word] bool


def random_heads(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random valid tree: words join in random order, each attached to a random earlier word."""
    order = rng.permutation(n)
    heads = np.zeros(n, dtype=np.int64)
    for k in range(1, n):
        heads[order[k]] = order[rng.integers(0, k)] + 1
    return heads


def random_sentence(
    n: int, rng: np.random.Generator, *, punct_rate: float = 0.15, punct_leaves_only: bool = True
) -> Sentence:
    """A random tree with random relation labels; punctuation is drawn among leaves unless told otherwise."""
    heads = random_heads(n, rng)
    relations = [str(r) for r in rng.choice(RELATIONS, size=n)]
    root = int(np.flatnonzero(heads == 0)[0])
    relations[root] = "root"
    candidates = np.ones(n, dtype=bool)
    if punct_leaves_only:
        candidates[heads[heads > 0] - 1] = False
    candidates[root] = False
    is_punct = candidates & (rng.random(n) < punct_rate)
    return Sentence(heads, relations, is_punct)


def random_corpus(
    num: int, seed: int, *, min_len: int = 4, max_len: int = 20, punct_leaves_only: bool = True
) -> list[Sentence]:
    rng = np.random.default_rng(seed)
    return [
        random_sentence(int(rng.integers(min_len, max_len + 1)), rng, punct_leaves_only=punct_leaves_only)
        for _ in range(num)
    ]


def random_attention(num_layers: int, num_heads: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random word-level attention ``[layer, head, word, word]`` whose rows sum to at most 1."""
    rows = rng.dirichlet(np.ones(n), size=(num_layers, num_heads, n))
    kept_mass = rng.uniform(0.3, 1.0, size=(num_layers, num_heads, n, 1))  # special-token mass removed
    return rows * kept_mass


PLANTED_SHAPE = (2, 3)  # layers, heads of the planted attention


def planted_attention(heads: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``[2, 3, word, word]``: head (1,2) attends to the gold head, head (0,0) to the previous word, rest random.

    The root (no head) and the first word (no previous word) put all their mass on themselves.
    """
    n = heads.size
    attn = random_attention(*PLANTED_SHAPE, n, rng)
    attn[1, 2] = 0.0
    for d in range(n):
        attn[1, 2, d, heads[d] - 1 if heads[d] > 0 else d] = 1.0
    attn[0, 0] = np.eye(n, k=-1)
    attn[0, 0, 0, 0] = 1.0
    return attn


def tree_vectors(heads: np.ndarray, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Word vectors whose squared distances ARE tree distances and squared norms ARE depths.

    Each edge gets its own vector from a random orthonormal basis; a word sits at the sum of the edge
    vectors on its path from the root (the root at the origin). Returns ``[word, dim]``.
    """
    n = heads.size
    if n > dim:
        raise ValueError("need dim >= number of words (one basis vector per edge, indexed by dependent)")
    basis, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    vectors = np.full((n, dim), np.nan)
    vectors[heads == 0] = 0.0
    while np.isnan(vectors).any():
        for d in range(n):
            g = heads[d] - 1
            if g >= 0 and np.isnan(vectors[d, 0]) and not np.isnan(vectors[g, 0]):
                vectors[d] = vectors[g] + basis[:, d]
    return vectors
