"""Structural probes (Hewitt & Manning 2019): gold targets, gradients, planted geometry, controls, seeding."""

from __future__ import annotations

import json

import numpy as np
import pytest
from edgeaudit.probes import (
    DepthProbe,
    DistanceProbe,
    distance_metrics,
    linear_chain_baseline,
    random_tree_uuas,
    split_sentences,
    tree_depths,
    tree_distances,
)
from edgeaudit.probes.structural import _DepthObjective, _DistanceObjective
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import check_grad

from tests.probes.synthetic import random_corpus, tree_vectors

DIM, HIDDEN = 16, 40


def test_gold_distances_and_depths_by_hand():
    # 1 <- 2 -> 3 -> 4, root 2 (1-based heads)
    heads = np.array([2, 0, 2, 3])
    expected = np.array([[0, 1, 2, 3], [1, 0, 1, 2], [2, 1, 0, 1], [3, 2, 1, 0]])
    np.testing.assert_array_equal(tree_distances(heads), expected)
    np.testing.assert_array_equal(tree_depths(heads), [1, 0, 1, 2])


def test_split_is_disjoint_complete_and_seeded():
    train, dev, test = split_sentences(101, seed=5)
    joined = np.concatenate([train, dev, test])
    assert sorted(joined.tolist()) == list(range(101))
    assert len(train) == 81 and len(dev) == 10 and len(test) == 10
    again = split_sentences(101, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip((train, dev, test), again, strict=True))
    assert not np.array_equal(train, split_sentences(101, seed=6)[0])


@pytest.mark.parametrize(
    "objective_cls, target", [(_DistanceObjective, tree_distances), (_DepthObjective, tree_depths)]
)
def test_analytic_gradient_matches_finite_differences(objective_cls, target):
    rng = np.random.default_rng(0)
    corpus = random_corpus(6, seed=1, max_len=9)
    X = [rng.standard_normal((s.heads.size, 7)) for s in corpus]
    objective = objective_cls(X, [target(s.heads) for s in corpus], smoothing=0.5)
    b = rng.standard_normal(3 * 7) * 0.3
    error = check_grad(lambda v: objective(v, 3)[0], lambda v: objective(v, 3)[1], b)
    assert error < 1e-5 * max(1.0, np.linalg.norm(objective(b, 3)[1]))


def tree_shaped_data(num: int, seed: int, noise: float = 0.01):
    """Sentences whose hidden vectors are a fixed random linear image of tree-geometry vectors, plus noise."""
    rng = np.random.default_rng(seed)
    lift = rng.standard_normal((DIM, HIDDEN)) / np.sqrt(DIM)  # the same "model" map for every sentence
    corpus = random_corpus(num, seed=seed + 1, min_len=5, max_len=DIM)
    X = [
        tree_vectors(s.heads, DIM, rng) @ lift + noise * rng.standard_normal((s.heads.size, HIDDEN))
        for s in corpus
    ]
    return corpus, X


@pytest.fixture(scope="module")
def planted():
    corpus, X = tree_shaped_data(200, seed=0)
    train, _, test = split_sentences(len(corpus), (0.75, 0.0, 0.25), seed=0)
    return corpus, X, train, test


def _pick(seq, idx):
    return [seq[i] for i in idx]


def test_distance_probe_recovers_planted_trees_on_held_out_sentences(planted):
    corpus, X, train, test = planted
    heads = [s.heads for s in corpus]
    punct = [s.is_punct for s in corpus]
    probe = DistanceProbe(rank=DIM, max_iter=300).fit(_pick(X, train), _pick(heads, train))
    metrics = probe.evaluate(_pick(X, test), _pick(heads, test), _pick(punct, test))
    assert metrics.uuas >= 0.95
    assert metrics.spearman >= 0.9
    assert probe.score(_pick(X, test), _pick(heads, test), _pick(punct, test)) == metrics.uuas
    chain = linear_chain_baseline(_pick(heads, test), _pick(punct, test))
    assert metrics.uuas > chain.distance.uuas + 0.3  # random trees are far from chains
    json.dumps(metrics.to_dict(), allow_nan=False)
    json.dumps(chain.to_dict(), allow_nan=False)


def test_depth_probe_recovers_planted_depths_on_held_out_sentences(planted):
    corpus, X, train, test = planted
    heads = [s.heads for s in corpus]
    punct = [s.is_punct for s in corpus]
    probe = DepthProbe(rank=DIM, max_iter=300).fit(_pick(X, train), _pick(heads, train))
    metrics = probe.evaluate(_pick(X, test), _pick(heads, test), _pick(punct, test))
    assert metrics.root_accuracy >= 0.95
    assert metrics.spearman >= 0.9


def test_distance_probe_on_random_vectors_stays_near_random_tree_baseline(planted):
    corpus, _, train, test = planted
    rng = np.random.default_rng(3)
    X = [rng.standard_normal((s.heads.size, HIDDEN)) for s in corpus]
    heads = [s.heads for s in corpus]
    punct = [s.is_punct for s in corpus]
    probe = DistanceProbe(rank=DIM, max_iter=300).fit(_pick(X, train), _pick(heads, train))
    uuas = probe.score(_pick(X, test), _pick(heads, test), _pick(punct, test))
    baseline = random_tree_uuas(_pick(heads, test), _pick(punct, test), seed=0)
    assert abs(uuas - baseline) < 0.15
    assert uuas < 0.5  # a clear gap below the >= 0.95 of planted geometry


def test_training_is_deterministic_given_the_seed(planted):
    corpus, X, train, _ = planted
    heads = [s.heads for s in corpus]
    a = DistanceProbe(rank=4, max_iter=30, random_state=1).fit(_pick(X, train), _pick(heads, train))
    b = DistanceProbe(rank=4, max_iter=30, random_state=1).fit(_pick(X, train), _pick(heads, train))
    c = DistanceProbe(rank=4, max_iter=30, random_state=2).fit(_pick(X, train), _pick(heads, train))
    np.testing.assert_array_equal(a.B_, b.B_)
    assert not np.allclose(a.B_, c.B_)


def test_linear_chain_baseline_is_perfect_on_chain_trees():
    heads = [np.array([0] + list(range(1, n))) for n in range(5, 12)]  # word i+1 depends on word i
    result = linear_chain_baseline(heads)
    assert result.distance.uuas == 1.0
    assert result.distance.spearman == pytest.approx(1.0)
    assert result.depth.spearman == pytest.approx(1.0)
    assert result.depth.root_accuracy == 1.0


def test_spearman_is_macro_averaged_over_lengths_5_to_50():
    heads = [np.array([0, 1, 2]), np.array([0, 1, 2, 3, 4]), np.array([0, 1, 2, 3, 4, 5])]
    gold = [tree_distances(h) for h in heads]
    anti = gold[2].max() - gold[2]  # perfectly anti-correlated on the 6-word sentence
    metrics = distance_metrics([gold[0], gold[1], anti], heads)
    assert sorted(metrics.spearman_by_length) == [5, 6]  # length 3 is outside 5..50
    assert metrics.spearman_by_length[5] == pytest.approx(1.0)
    assert metrics.spearman == pytest.approx(0.5 * (1.0 + metrics.spearman_by_length[6]))


def test_predict_requires_fit_and_matching_width():
    with pytest.raises(RuntimeError, match="not fitted"):
        DistanceProbe().predict([np.zeros((3, 4))])
    probe = DepthProbe(rank=2, max_iter=5).fit(
        [np.random.default_rng(0).standard_normal((3, 4))], [np.array([0, 1, 1])]
    )
    with pytest.raises(ValueError, match="expected"):
        probe.predict([np.zeros((3, 5))])


def test_one_word_sentences_are_handled():
    """UD has one-word sentences ("Thanks."): zero distance, depth 0, and a probe can train beside them."""
    import numpy as np
    from edgeaudit.probes import DistanceProbe, tree_depths, tree_distances

    assert tree_distances(np.array([0])).tolist() == [[0.0]]
    assert tree_depths(np.array([0])).tolist() == [0.0]
    rng = np.random.default_rng(0)
    X = [rng.standard_normal((1, 4)), rng.standard_normal((3, 4))]
    probe = DistanceProbe(rank=2, max_iter=5).fit(X, [np.array([0]), np.array([2, 0, 2])])
    assert probe.predict(X)[0].shape == (1, 1)


def test_standardising_recovers_trees_hidden_behind_a_few_huge_dimensions(planted):
    corpus, X, train, test = planted
    heads = [s.heads for s in corpus]
    punct = [s.is_punct for s in corpus]
    loud = [x * np.r_[np.full(3, 300.0), np.ones(x.shape[1] - 3)] for x in X]  # decoder-like outlier dimensions
    scores = {}
    for standardize in (True, False):
        probe = DistanceProbe(rank=DIM, max_iter=100, standardize=standardize)
        probe.fit(_pick(loud, train), _pick(heads, train))
        scores[standardize] = probe.score(_pick(loud, test), _pick(heads, test), _pick(punct, test))
        report = probe.fit_report()
        assert report["standardized"] is standardize and report["iterations"] <= 100 == report["max_iter"]
        assert isinstance(report["converged"], bool)
    assert scores[True] >= 0.95 and scores[False] < 0.8


@pytest.fixture(scope="module")
def overfitting():
    """Few noisy training sentences and many dimensions: the training loss keeps falling long after the loss on
    held-out sentences has turned upward, as on real 384-576-wide layers."""
    corpus, X = tree_shaped_data(60, seed=4, noise=0.3)
    train, dev, test = split_sentences(len(corpus), (0.3, 0.35, 0.35), seed=0)
    heads = [s.heads for s in corpus]
    return X, heads, train, dev, test


@pytest.mark.parametrize("probe_cls", [DistanceProbe, DepthProbe])
def test_dev_sentences_stop_the_fit_at_their_loss_minimum(overfitting, probe_cls):
    X, heads, train, dev, _ = overfitting
    stopped = probe_cls(rank=DIM, max_iter=400).fit(_pick(X, train), _pick(heads, train),
                                                     X_dev=_pick(X, dev), heads_dev=_pick(heads, dev))
    report = stopped.fit_report()
    assert report["stopped"] == "dev-loss-minimum" and report["converged"] is True
    assert report["best_iteration"] % stopped.check_every == 0 and report["best_iteration"] > 0
    assert report["best_iteration"] + stopped.patience * stopped.check_every == report["iterations"] < 400
    # the parameters kept are those of the best check: the same L-BFGS path cut at that iteration
    cut = probe_cls(rank=DIM, max_iter=report["best_iteration"]).fit(_pick(X, train), _pick(heads, train))
    np.testing.assert_allclose(stopped.B_, cut.B_, rtol=0, atol=1e-12)
    # and they beat running on to the cap, which over-fits, on the held-out sentences
    full = probe_cls(rank=DIM, max_iter=400).fit(_pick(X, train), _pick(heads, train))
    dev_objective = stopped._objective(stopped._scaled(_pick(X, dev)), _pick(heads, dev))
    assert report["dev_loss"] == pytest.approx(dev_objective(stopped.B_.ravel(), DIM)[0])
    full_dev = full._objective(full._scaled(_pick(X, dev)), _pick(heads, dev))(full.B_.ravel(), DIM)[0]
    assert report["dev_loss"] < full_dev
    assert full.fit_report()["stopped"] in {"iteration-cap", "tolerance"} and full.fit_report()["dev_loss"] is None


def test_a_fit_capped_before_its_dev_minimum_is_reported_unconverged(overfitting):
    X, heads, train, dev, _ = overfitting
    probe = DistanceProbe(rank=DIM, max_iter=7).fit(_pick(X, train), _pick(heads, train),
                                                    X_dev=_pick(X, dev), heads_dev=_pick(heads, dev))
    report = probe.fit_report()
    assert report["stopped"] == "iteration-cap" and report["converged"] is False
    assert report["iterations"] == 7 and report["best_iteration"] in {5, 7}  # the last check, or the cap itself


def test_dev_sentences_need_their_trees():
    rng = np.random.default_rng(0)
    X, heads = [rng.standard_normal((3, 4))], [np.array([0, 1, 1])]
    with pytest.raises(ValueError, match="both X_dev and heads_dev"):
        DistanceProbe(rank=2).fit(X, heads, X_dev=X)
    with pytest.raises(ValueError, match="development sentence 0: 3 vectors for 2 words"):
        DistanceProbe(rank=2).fit(X, heads, X_dev=X, heads_dev=[np.array([0, 1])])


@pytest.mark.parametrize("kind", [DistanceProbe, DepthProbe])
@pytest.mark.parametrize("standardize", [True, False])
def test_a_probe_rebuilt_from_its_fitted_state_predicts_the_same_floats(planted, kind, standardize):
    """What an audit saves for compare: the rebuilt probe must predict bit for bit what the fitted one does."""
    corpus, X, train, test = planted
    heads = [s.heads for s in corpus]
    probe = kind(rank=4, max_iter=20, standardize=standardize).fit(_pick(X, train), _pick(heads, train))
    state = probe.fitted_state()
    assert set(state) == ({"B", "mean", "scale"} if standardize else {"B"})
    rebuilt = kind.from_fitted_state({name: np.array(value) for name, value in state.items()})
    for ours, theirs in zip(rebuilt.predict(_pick(X, test)), probe.predict(_pick(X, test)), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    other = kind.from_fitted_state({**state, "B": state["B"] * 2})
    assert not np.allclose(other.predict(_pick(X, test))[0], probe.predict(_pick(X, test))[0])


def test_an_unfitted_probe_has_no_state():
    with pytest.raises(RuntimeError, match="not fitted"):
        DistanceProbe().fitted_state()


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(1, 90), min_size=0, max_size=400),
       max_padding=st.sampled_from([1.0, 1.2, 2.0]), max_size=st.integers(1, 128))
def test_length_buckets_hold_every_sentence_once_within_the_padding_bound(lengths, max_padding, max_size):
    """Each bucket pads its sentences to its longest: the padded pairs stay within ``max_padding`` times the real
    ones (a bucket of one cannot pad), no bucket exceeds ``max_size``, and every sentence is in exactly one."""
    from edgeaudit.probes.structural import length_buckets

    lengths = np.asarray(lengths, dtype=np.int64)
    buckets = length_buckets(lengths, max_padding=max_padding, max_size=max_size)
    assert sorted(np.concatenate(buckets).tolist() if buckets else []) == list(range(len(lengths)))
    for bucket in buckets:
        assert 1 <= len(bucket) <= max_size
        real = int((lengths[bucket] ** 2).sum())
        assert len(bucket) == 1 or len(bucket) * int(lengths[bucket].max()) ** 2 <= max_padding * real + 1e-9
