"""Dependency-tree helpers shared by the relational probes (private).

Trees arrive in the CoNLL-U convention: ``heads[i]`` is the 1-based index of word ``i``'s head and 0 marks
the root. Internally every function works with 0-based word indices; undirected edges are ``(i, j)`` rows
with ``i < j``.

Punctuation policy (shared by attention trees and structural probes): following Hewitt & Manning (2019), UUAS
is computed on the sentence with punctuation words removed. Removing a word from a tree leaves a tree only if
the word is a leaf (UD punctuation almost always is); when a punctuation word has dependents, each dependent is
re-attached to its nearest non-punctuation ancestor (the punctuation node is contracted). If the root itself is
punctuation, its non-punctuation descendants become separate components and the gold edge set is a forest.
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import minimum_spanning_tree


def validate_heads(heads: np.ndarray) -> np.ndarray:
    """Check a CoNLL-U head array (1-based, one root, acyclic) and return it as ``int64``.

    Raises ``ValueError`` naming the problem so a malformed treebank sentence fails loudly, not as a
    silently wrong score.
    """
    arr = np.asarray(heads)
    if arr.ndim != 1:
        raise ValueError(f"heads must be 1-D [word], got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError("heads must be integer indices (1-based, 0 = root)")
    arr = arr.astype(np.int64)
    n = arr.size
    if n == 0:
        raise ValueError("heads is empty: a sentence needs at least one word")
    if arr.min() < 0 or arr.max() > n:
        raise ValueError(f"heads must lie in 0..{n} (1-based, 0 = root), got {arr.min()}..{arr.max()}")
    if np.count_nonzero(arr == 0) != 1:
        raise ValueError(f"a tree needs exactly one root (head 0), found {np.count_nonzero(arr == 0)}")
    if np.any(arr == np.arange(1, n + 1)):
        raise ValueError("a word cannot be its own head")
    # Follow parent pointers n times: in an acyclic tree every word has reached the root (-1) by then.
    parent = arr - 1
    cur = np.arange(n)
    for _ in range(n):
        cur = np.where(cur >= 0, parent[np.maximum(cur, 0)], -1)
    if np.any(cur >= 0):
        raise ValueError("heads contain a cycle: not a tree")
    return arr


def validate_punct(is_punct: np.ndarray | None, n: int) -> np.ndarray:
    """Return a boolean ``[word]`` mask (all False when ``is_punct`` is None)."""
    if is_punct is None:
        return np.zeros(n, dtype=bool)
    mask = np.asarray(is_punct, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"is_punct must have shape ({n},), got {mask.shape}")
    return mask


def tree_edges(heads: np.ndarray) -> np.ndarray:
    """All undirected edges of the gold tree. Returns ``[edge, 2]`` (0-based, i < j)."""
    heads = np.asarray(heads)
    dep = np.flatnonzero(heads > 0)
    gov = heads[dep] - 1
    return np.sort(np.stack([dep, gov], axis=1), axis=1).astype(np.int64).reshape(-1, 2)


def _ancestry(heads: np.ndarray) -> np.ndarray:
    """``[word, word]`` 0/1 matrix: ``A[i, j] = 1`` when word j is word i or one of its ancestors (valid heads).

    Built by walking every word's parent pointer at once, one step per tree level."""
    n = heads.size
    parent = heads - 1  # -1 above the root
    ancestry = np.zeros((n, n))
    rows, current = np.arange(n), np.arange(n)
    while rows.size:
        ancestry[rows, current] = 1.0
        current = parent[current]
        rows, current = rows[current >= 0], current[current >= 0]
    return ancestry


def tree_distances(heads: np.ndarray) -> np.ndarray:
    """Path length (number of edges) between every pair of words in the gold tree.

    Returns ``[word, word]`` float64. Hewitt & Manning (2019) use this as the distance probe's target.
    In a rooted tree ``d(i, j) = depth(i) + depth(j) − 2·depth(lca(i, j))``, and ``depth(lca) + 1`` is the number
    of ancestors i and j share (themselves included), one matrix product of the ancestry matrix — exact integer
    counts, and several times faster than a shortest-path search over a sparse graph (a test compares them).
    """
    ancestry = _ancestry(validate_heads(heads))
    depth = ancestry.sum(axis=1) - 1.0
    shared = ancestry @ ancestry.T  # [word, word] common ancestors, each word counted as its own
    return depth[:, None] + depth[None, :] - 2.0 * (shared - 1.0)


def tree_depths(heads: np.ndarray) -> np.ndarray:
    """Number of edges from each word to the root (root = 0). Returns ``[word]`` float64."""
    return _ancestry(validate_heads(heads)).sum(axis=1) - 1.0


def gold_edges_without_punct(heads: np.ndarray, is_punct: np.ndarray) -> np.ndarray:
    """Undirected gold edges among non-punctuation words (punctuation contracted, see module doc).

    Returns ``[edge, 2]`` in the original 0-based word indices, ``i < j``.
    """
    heads = np.asarray(heads)
    rows = []
    for d in np.flatnonzero(~is_punct):
        g = heads[d] - 1
        while g >= 0 and is_punct[g]:
            g = heads[g] - 1
        if g >= 0:
            rows.append((min(d, g), max(d, g)))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def reindex_edges(edges: np.ndarray, kept: np.ndarray, n: int) -> np.ndarray:
    """Map edges from original word indices to positions within ``kept`` (sorted word indices)."""
    position = np.full(n, -1, dtype=np.int64)
    position[kept] = np.arange(kept.size)
    out = position[edges]
    return np.sort(out, axis=1).reshape(-1, 2)


def spanning_tree_edges(scores: np.ndarray, *, maximize: bool) -> np.ndarray:
    """Maximum (``maximize=True``) or minimum spanning tree of a complete graph with symmetric weights.

    ``scores`` is ``[node, node]``; returns ``[node - 1, 2]`` edges (i < j) sorted lexicographically. One graph
    of :func:`spanning_trees`.
    """
    scores = np.asarray(scores)
    return spanning_trees(scores[None], maximize=maximize)[0]


def spanning_trees(scores: np.ndarray, *, maximize: bool) -> np.ndarray:
    """Spanning trees of many complete graphs of one size in one scipy call.

    ``scores`` is ``[graph, node, node]`` (symmetric weights). scipy treats a zero entry as "no edge", so each
    graph's weights are shifted to strictly positive costs; adding one constant to every edge of a graph does not
    change which spanning tree is optimal because every spanning tree has ``node - 1`` edges. The graphs are laid
    side by side as the blocks of one block-diagonal graph, whose minimum spanning forest is the union of the
    blocks' trees: one call instead of one per attention head (the audit's per-head trees cost 30% of its time
    one by one). Each block's edges keep their order in scipy's edge list, so ties resolve exactly as they do for
    the graph alone (tested). Returns ``[graph, node - 1, 2]`` edges (i < j), each graph's sorted lexicographically.
    """
    scores = np.asarray(scores)
    if scores.ndim != 3 or scores.shape[1] != scores.shape[2]:
        raise ValueError(f"scores must be [graph, node, node], got shape {scores.shape}")
    graphs, n = scores.shape[0], scores.shape[1]
    if n < 2 or graphs == 0:
        return np.zeros((graphs, 0, 2), dtype=np.int64)
    off = ~np.eye(n, dtype=bool)
    if not np.isfinite(scores[:, off]).all():
        raise ValueError("spanning tree is not connected: weights contain NaN or infinity")
    cost = -scores.astype(np.float64) if maximize else scores.astype(np.float64, copy=True)
    cost = cost - cost[:, off].min(axis=1)[:, None, None] + 1.0
    upper_row, upper_col = np.triu_indices(n, 1)
    first_node = (np.arange(graphs, dtype=np.int64) * n)[:, None]
    size = graphs * n
    graph = csr_matrix(
        (cost[:, upper_row, upper_col].ravel(), ((first_node + upper_row).ravel(), (first_node + upper_col).ravel())),
        shape=(size, size),
    )
    forest = minimum_spanning_tree(graph).tocoo()
    if forest.nnz != graphs * (n - 1):
        raise ValueError("spanning tree is not connected: weights contain NaN or infinity")
    block = forest.row // n
    edges = np.sort(np.stack([forest.row % n, forest.col % n], axis=1), axis=1).astype(np.int64)
    order = np.lexsort((edges[:, 1], edges[:, 0], block))
    return edges[order].reshape(graphs, n - 1, 2)


def count_shared_edges_batch(pred: np.ndarray, gold: np.ndarray, n: int) -> np.ndarray:
    """Shared undirected edges of each predicted edge set (``[graph, edge, 2]``) with ``gold`` (``[edge, 2]``).

    Returns ``[graph]`` int64 counts; equal to :func:`count_shared_edges` per graph.
    """
    if pred.shape[1] == 0 or len(gold) == 0:
        return np.zeros(pred.shape[0], dtype=np.int64)
    adjacency = np.zeros((n, n), dtype=bool)
    adjacency[gold[:, 0], gold[:, 1]] = True
    return adjacency[pred[..., 0], pred[..., 1]].sum(axis=1).astype(np.int64)


def count_shared_edges(pred: np.ndarray, gold: np.ndarray, n: int) -> int:
    """Number of undirected edges (``[edge, 2]``, i < j, nodes < n) present in both sets."""
    if len(pred) == 0 or len(gold) == 0:
        return 0
    pred_keys = pred[:, 0] * n + pred[:, 1]
    gold_keys = gold[:, 0] * n + gold[:, 1]
    return int(np.intersect1d(pred_keys, gold_keys).size)


def chain_edges(n: int) -> np.ndarray:
    """The right-branching chain i—i+1 over ``n`` nodes. Returns ``[n - 1, 2]``."""
    idx = np.arange(max(n - 1, 0), dtype=np.int64)
    return np.stack([idx, idx + 1], axis=1)


def random_spanning_tree(n: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random spanning tree of the complete graph on ``n`` nodes. Returns ``[n - 1, 2]``.

    Decodes a uniformly random Prüfer sequence; Cayley's bijection makes every labelled tree equally likely.
    """
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if n == 2:
        return np.array([[0, 1]], dtype=np.int64)
    sequence = rng.integers(0, n, size=n - 2)
    degree = np.ones(n, dtype=np.int64)
    np.add.at(degree, sequence, 1)
    leaves = [int(i) for i in np.flatnonzero(degree == 1)]
    heapq.heapify(leaves)
    rows = []
    for node in sequence.tolist():
        leaf = heapq.heappop(leaves)
        rows.append((min(leaf, node), max(leaf, node)))
        degree[node] -= 1
        if degree[node] == 1:
            heapq.heappush(leaves, node)
    u, v = heapq.heappop(leaves), heapq.heappop(leaves)
    rows.append((min(u, v), max(u, v)))
    return np.asarray(rows, dtype=np.int64)
