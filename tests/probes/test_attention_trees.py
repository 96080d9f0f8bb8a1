"""Attention-tree UUAS: planted trees, naive Prim re-computation, baselines and seeding."""

from __future__ import annotations

import json

import numpy as np
import pytest
from edgeaudit.probes import AttentionTreeUUAS, attention_tree_edges, chain_uuas, random_tree_uuas

from tests.probes.synthetic import PLANTED_SHAPE, planted_attention, random_attention, random_corpus

L, H = PLANTED_SHAPE


def test_planted_head_recovers_every_tree():
    rng = np.random.default_rng(0)
    collector = AttentionTreeUUAS(L, H)
    for sent in random_corpus(40, seed=2):
        collector.update(planted_attention(sent.heads, rng), sent.heads, sent.is_punct)
    result = collector.result()
    assert result.per_head[1, 2] == 1.0
    assert result.best_head() == (1, 2, 1.0)
    assert result.num_sentences == 40 and result.skipped_sentences == 0
    json.dumps(result.to_dict(), allow_nan=False)


def naive_gold_edges(heads, is_punct, exclude_punct):
    kept = [i for i in range(len(heads)) if not (exclude_punct and is_punct[i])]
    edges = set()
    for d in kept:
        g = heads[d] - 1
        while exclude_punct and g >= 0 and is_punct[g]:
            g = heads[g] - 1
        if g >= 0:
            edges.add((min(kept.index(d), kept.index(g)), max(kept.index(d), kept.index(g))))
    return kept, edges


def naive_prim(weights):
    """Maximum spanning tree by Prim's algorithm, one node at a time."""
    n = len(weights)
    in_tree, edges = {0}, set()
    while len(in_tree) < n:
        best = None
        for i in in_tree:
            for j in range(n):
                if j not in in_tree and (best is None or weights[i][j] > best[0]):
                    best = (weights[i][j], i, j)
        _, i, j = best
        in_tree.add(j)
        edges.add((min(i, j), max(i, j)))
    return edges


@pytest.mark.parametrize("exclude_punct", [True, False])
def test_collector_agrees_with_naive_prim(exclude_punct):
    rng = np.random.default_rng(11)
    corpus = random_corpus(25, seed=4, punct_leaves_only=False)
    collector = AttentionTreeUUAS(L, H, exclude_punct=exclude_punct)
    correct_head, correct_layer, total = np.zeros((L, H)), np.zeros(L), 0
    for sent in corpus:
        attn = random_attention(L, H, sent.heads.size, rng)
        collector.update(attn, sent.heads, sent.is_punct)
        kept, gold = naive_gold_edges(sent.heads, sent.is_punct, exclude_punct)
        if len(kept) < 2:
            continue
        total += len(gold)
        sub = attn[:, :, kept][:, :, :, kept]
        for layer in range(L):
            for head in range(H):
                a = sub[layer, head]
                correct_head[layer, head] += len(naive_prim((a + a.T) / 2) & gold)
            m = sub[layer].mean(axis=0)
            correct_layer[layer] += len(naive_prim((m + m.T) / 2) & gold)
    result = collector.result()
    assert result.num_edges == total
    np.testing.assert_allclose(result.per_head, correct_head / total, atol=1e-9, rtol=0)
    np.testing.assert_allclose(result.layer_mean, correct_layer / total, atol=1e-9, rtol=0)


def test_zero_weights_still_give_a_spanning_tree():
    attn = np.zeros((4, 4))
    attn[0, 1] = attn[2, 3] = 0.5  # nodes {0,1} and {2,3} are linked only through zero-weight pairs
    edges = attention_tree_edges(attn)
    assert len(edges) == 3
    assert {(0, 1), (2, 3)} <= {tuple(e) for e in edges.tolist()}


def test_chain_baseline_scores_one_on_chain_trees():
    heads = [np.array([0, 1, 2, 3, 4]), np.array([2, 3, 4, 0])]  # left- and right-attaching chains
    assert chain_uuas(heads) == 1.0


def test_random_tree_baseline_is_seeded_and_near_its_expectation():
    corpus = random_corpus(150, seed=6)
    heads = [s.heads for s in corpus]
    punct = [s.is_punct for s in corpus]
    a = random_tree_uuas(heads, punct, seed=3, samples=5)
    assert a == random_tree_uuas(heads, punct, seed=3, samples=5)
    assert a != random_tree_uuas(heads, punct, seed=4, samples=5)

    rng = np.random.default_rng(0)
    collector = AttentionTreeUUAS(1, 1, random_samples=5, seed=3)
    for sent in corpus:
        collector.update(random_attention(1, 1, sent.heads.size, rng), sent.heads, sent.is_punct)
    result = collector.result()
    assert result.random_tree == pytest.approx(a, abs=1e-12)  # same seed, same sentence order
    assert result.random_tree == pytest.approx(result.random_tree_expected, abs=0.03)


def test_sentences_without_two_scored_words_are_skipped():
    collector = AttentionTreeUUAS(1, 1)
    collector.update(np.ones((1, 1, 2, 2)) / 2, np.array([0, 1]), np.array([False, True]))
    result = collector.result()
    assert result.skipped_sentences == 1 and result.num_sentences == 0
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["per_head"] == [[None]]
