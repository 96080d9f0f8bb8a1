"""Batched spanning trees: one scipy call for many graphs gives each graph's own tree, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from edgeaudit.probes._trees import (
    count_shared_edges,
    count_shared_edges_batch,
    spanning_tree_edges,
    spanning_trees,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def _one_by_one(scores: np.ndarray, maximize: bool) -> np.ndarray:
    """The reference: scipy on each graph alone (what the audit did before batching)."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    out = []
    for graph in scores:
        n = graph.shape[0]
        off = ~np.eye(n, dtype=bool)
        cost = -graph if maximize else graph.copy()
        cost = cost - cost[off].min() + 1.0
        mst = minimum_spanning_tree(np.triu(cost, 1)).tocoo()
        edges = np.sort(np.stack([mst.row, mst.col], axis=1), axis=1).astype(np.int64)
        out.append(edges[np.lexsort((edges[:, 1], edges[:, 0]))])
    return np.stack(out)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 30),
    graphs=st.integers(1, 12),
    levels=st.sampled_from([0, 2, 4, 1000]),  # 0 = continuous weights; few levels = many exact ties
    maximize=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_batched_trees_equal_each_graph_alone_even_with_ties(n, graphs, levels, maximize, seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((graphs, n, n))
    if levels:
        scores = np.round(scores * levels) / levels
    scores = 0.5 * (scores + scores.transpose(0, 2, 1))
    batched = spanning_trees(scores, maximize=maximize)
    assert batched.shape == (graphs, n - 1, 2)
    np.testing.assert_array_equal(batched, _one_by_one(scores, maximize))


def test_maximum_tree_follows_strong_weights():
    # A planted chain 0-1-2-3 with strong weights, everything else weak: the maximum tree is the chain and the
    # minimum tree avoids every chain edge.
    scores = np.full((4, 4), 0.1)
    for i in range(3):
        scores[i, i + 1] = scores[i + 1, i] = 0.9
    np.testing.assert_array_equal(spanning_tree_edges(scores, maximize=True), [[0, 1], [1, 2], [2, 3]])
    minimum = spanning_tree_edges(scores, maximize=False)
    assert not {tuple(e) for e in minimum} & {(0, 1), (1, 2), (2, 3)}


def test_non_finite_weights_are_refused():
    scores = np.ones((2, 3, 3))
    scores[1, 0, 2] = scores[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        spanning_trees(scores, maximize=True)


def test_tiny_graphs_have_no_edges():
    assert spanning_trees(np.ones((5, 1, 1)), maximize=True).shape == (5, 0, 2)


def test_batched_shared_edge_counts_match_the_single_count():
    rng = np.random.default_rng(3)
    scores = rng.random((20, 9, 9))
    trees = spanning_trees(0.5 * (scores + scores.transpose(0, 2, 1)), maximize=True)
    gold = np.array([[0, 1], [1, 2], [2, 5], [3, 5], [4, 5], [5, 8], [6, 8], [7, 8]])
    counts = count_shared_edges_batch(trees, gold, 9)
    assert counts.tolist() == [count_shared_edges(tree, gold, 9) for tree in trees]
    assert count_shared_edges_batch(trees, gold[:0], 9).tolist() == [0] * 20


@st.composite
def _random_tree(draw):
    """A random valid CoNLL-U head array: each word after the first hangs from an earlier one, then relabelled."""
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    parent = [-1] + [int(rng.integers(0, i)) for i in range(1, n)]  # word i's parent among words < i
    order = rng.permutation(n)  # word i of the drawn tree sits at position order[i]
    heads = np.zeros(n, dtype=np.int64)
    for i in range(1, n):
        heads[order[i]] = order[parent[i]] + 1
    return heads


@settings(max_examples=80, deadline=None)
@given(heads=_random_tree())
def test_tree_distances_equal_a_shortest_path_search(heads):
    """The ancestry-matrix distances (and depths) against scipy's breadth-first search over the tree's edges."""
    from edgeaudit.probes._trees import tree_depths, tree_distances, tree_edges
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    n = heads.size
    edges = tree_edges(heads)
    graph = csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    expected = shortest_path(graph, directed=False, unweighted=True)
    np.testing.assert_array_equal(tree_distances(heads), expected)
    np.testing.assert_array_equal(tree_depths(heads), expected[int(np.flatnonzero(heads == 0)[0])])
