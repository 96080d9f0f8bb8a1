"""Per-head relation accuracy (Clark et al. 2019): planted structure, naive re-computation, bookkeeping."""

from __future__ import annotations

import json

import numpy as np
import pytest
from edgeaudit.probes import HeadRelationAccuracy, most_attended_other_word

from tests.probes.synthetic import PLANTED_SHAPE, planted_attention, random_attention, random_corpus

L, H = PLANTED_SHAPE


def test_planted_heads_are_found_and_offset_baseline_matches_previous_word_head():
    rng = np.random.default_rng(0)
    collector = HeadRelationAccuracy(L, H)
    for sent in random_corpus(60, seed=1):
        collector.update(planted_attention(sent.heads, rng), sent.heads, sent.relations, sent.is_punct)
    result = collector.result(min_count=1)

    assert set(result.relations) <= {"nsubj", "obj", "amod", "det", "advmod", "case"}  # root never scored
    assert len(result.relations) == 6
    offsets = result.offset_baseline.offsets
    for r, rel in enumerate(result.relations):
        assert result.dependent_to_head[r, 1, 2] == 1.0
        assert result.best_heads()[rel] == (1, 2, 1.0)
        previous = result.offset_baseline.dependent_to_head[r, offsets.index(-1)]
        assert result.dependent_to_head[r, 0, 0] == pytest.approx(previous, abs=1e-12)
        # Head direction of the previous-word head: from the head word, its previous word is the dependent.
        assert result.head_to_dependent[r, 0, 0] == pytest.approx(
            result.offset_baseline.head_to_dependent[r, offsets.index(-1)], abs=1e-12
        )


def naive_head_accuracy(corpus, attentions, offsets=(-3, -2, -1, 1, 2, 3)):
    """Loops over everything, one word and one head at a time; first maximum wins; no mass = no prediction."""

    def most_attended(row, self_index):
        best, best_value = -1, 0.0
        for j, value in enumerate(row):
            if j != self_index and value > best_value:
                best, best_value = j, value
        return best

    tallies: dict[str, dict] = {}
    for sent, attn in zip(corpus, attentions, strict=True):
        for d, h in enumerate(sent.heads):
            if h == 0 or sent.is_punct[d]:
                continue
            g = h - 1
            t = tallies.setdefault(
                sent.relations[d],
                {"n": 0, "dep": np.zeros((L, H)), "head": np.zeros((L, H)), "odep": {}, "ohead": {}},
            )
            t["n"] += 1
            for layer in range(L):
                for head in range(H):
                    t["dep"][layer, head] += most_attended(attn[layer, head, d], d) == g
                    t["head"][layer, head] += most_attended(attn[layer, head, g], g) == d
            for o in offsets:
                t["odep"][o] = t["odep"].get(o, 0) + (d + o == g)
                t["ohead"][o] = t["ohead"].get(o, 0) + (g + o == d)
    return tallies


def test_vectorised_probe_agrees_with_naive_loops_on_random_attention():
    rng = np.random.default_rng(7)
    corpus = random_corpus(40, seed=3, punct_leaves_only=False)
    attentions = [random_attention(L, H, s.heads.size, rng) for s in corpus]
    # Some rows with no mass on other words (e.g. all mass on special tokens or on the word itself).
    attentions[0][1, 1, 2] = 0.0
    attentions[1][0, 2, 0] = 0.0
    attentions[1][0, 2, 0, 0] = 0.7
    collector = HeadRelationAccuracy(L, H)
    for sent, attn in zip(corpus, attentions, strict=True):
        collector.update(attn, sent.heads, sent.relations, sent.is_punct)
    result = collector.result(min_count=1)
    naive = naive_head_accuracy(corpus, attentions)

    assert result.relations == sorted(naive)
    for r, rel in enumerate(result.relations):
        t = naive[rel]
        assert result.counts[r] == t["n"]
        np.testing.assert_allclose(result.dependent_to_head[r], t["dep"] / t["n"], atol=1e-9, rtol=0)
        np.testing.assert_allclose(result.head_to_dependent[r], t["head"] / t["n"], atol=1e-9, rtol=0)
        for k, o in enumerate(result.offset_baseline.offsets):
            assert result.offset_baseline.dependent_to_head[r, k] == pytest.approx(
                t["odep"][o] / t["n"], abs=1e-9
            )
            assert result.offset_baseline.head_to_dependent[r, k] == pytest.approx(
                t["ohead"][o] / t["n"], abs=1e-9
            )


def test_rare_relations_are_listed_not_scored_and_result_is_json():
    rng = np.random.default_rng(0)
    collector = HeadRelationAccuracy(L, H)
    corpus = random_corpus(10, seed=5)
    for sent in corpus:
        collector.update(
            random_attention(L, H, sent.heads.size, rng), sent.heads, sent.relations, sent.is_punct
        )
    counts = collector.result(min_count=1).counts
    threshold = int(np.median(counts)) + 1
    result = collector.result(min_count=threshold)
    assert all(c >= threshold for c in result.counts)
    assert all(c < threshold for c in result.rare_relations.values())
    assert len(result.relations) + len(result.rare_relations) == len(counts)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(payload["relations"]) == set(result.relations)
    some = next(iter(payload["relations"].values()))
    assert np.shape(some["dependent_to_head"]["accuracy"]) == (L, H)
    assert set(some["head_to_dependent"]["offset_baseline"]["by_offset"]) == {"-3", "-2", "-1", "1", "2", "3"}


def test_most_attended_excludes_self_and_needs_mass():
    attn = np.array([[[[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.0, 0.0, 1.0]]]])  # [1, 1, 3, 3]
    assert most_attended_other_word(attn)[0, 0].tolist() == [1, 0, -1]


def test_bad_shapes_and_trees_are_rejected():
    collector = HeadRelationAccuracy(L, H)
    heads = np.array([2, 0, 2])
    ok = dict(heads=heads, relations=["det", "root", "obj"], is_punct=np.zeros(3, bool))
    with pytest.raises(ValueError, match="shape"):
        collector.update(np.zeros((L, H, 4, 4)), **ok)
    with pytest.raises(ValueError, match="root"):
        collector.update(np.zeros((L, H, 3, 3)), np.array([0, 0, 2]), ok["relations"], ok["is_punct"])
    with pytest.raises(ValueError, match="cycle"):
        collector.update(np.zeros((L, H, 3, 3)), np.array([3, 0, 1]), ok["relations"], ok["is_punct"])


def test_causal_accuracy_is_over_arcs_whose_target_is_to_the_left():
    from edgeaudit.probes.attention_heads import LEFT_OFFSETS, HeadRelationAccuracy

    # 0 <-det- 1 (head to the right of its dependent), 2 -obj-> 1 (head to the left)
    heads, relations = np.array([2, 0, 2]), ["det", "root", "obj"]
    attn = np.tril(np.ones((1, 1, 3, 3)))  # previous words only, with ties to the lowest index
    attn[0, 0, 2] = [0.0, 0.9, 0.1]
    attn = attn / attn.sum(axis=-1, keepdims=True)
    causal = HeadRelationAccuracy(1, 1, causal=True)
    hits = causal.update(attn, heads, relations, np.zeros(3, dtype=bool))
    result = causal.result(min_count=1)
    assert causal.offsets.tolist() == list(LEFT_OFFSETS)
    assert result.possible_count("det", "dependent_to_head") == 0 and result.possible_count("det", "head_to_dependent") == 1
    assert result.possible_count("obj", "dependent_to_head") == 1
    assert result.accuracy("obj", "dependent_to_head")[0, 0] == 1.0  # 1 of 1 possible, not 1 of 2 instances
    assert result.accuracy("det", "head_to_dependent")[0, 0] == 1.0  # from 'det''s head (1) the dependent 0
    assert hits.possible["dependent_to_head"].tolist() == [False, True]
    assert result.to_dict()["causal"] is True
    assert result.to_dict()["relations"]["det"]["dependent_to_head"]["possible"] == 0


def test_causal_refuses_rightward_offsets_and_bidirectional_counts_every_arc():
    from edgeaudit.probes.attention_heads import DIRECTIONS, HeadRelationAccuracy

    with pytest.raises(ValueError, match="negative offsets"):
        HeadRelationAccuracy(1, 1, causal=True, offsets=(-1, 1))
    bidirectional = HeadRelationAccuracy(1, 1)
    bidirectional.update(np.full((1, 1, 3, 3), 1 / 3), np.array([2, 0, 2]), ["det", "root", "obj"],
                         np.zeros(3, dtype=bool))
    result = bidirectional.result(min_count=1)
    assert all(result.possible_count(r, d) == 1 for r in ("det", "obj") for d in DIRECTIONS)
