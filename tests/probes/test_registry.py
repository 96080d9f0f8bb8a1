"""The probe registry, with tests written once and run for every registered probe/control from a table.

Adding a probe means adding a row to ``CASES``: a function that runs it on seeded synthetic input and returns
its JSON content. The shared tests then check it is deterministic for a fixed seed and strictly JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from edgeaudit.probes import PROBES, UnknownProbeError, get_probe

from edgeaudit import probes
from tests.probes.synthetic import random_attention, random_corpus


def _corpus(seed: int):
    return random_corpus(12, seed=seed, min_len=5, max_len=12)


def _head_relation_accuracy(seed: int):
    rng = np.random.default_rng(seed)
    collector = get_probe("head_relation_accuracy")(2, 2)
    for s in _corpus(seed):
        collector.update(random_attention(2, 2, s.heads.size, rng), s.heads, s.relations, s.is_punct)
    return collector.result(min_count=1).to_dict()


def _attention_tree_uuas(seed: int):
    rng = np.random.default_rng(seed)
    collector = get_probe("attention_tree_uuas")(2, 2, seed=seed)
    for s in _corpus(seed):
        collector.update(random_attention(2, 2, s.heads.size, rng), s.heads, s.is_punct)
    return collector.result().to_dict()


def _structural(name: str) -> Callable[[int], dict]:
    def run(seed: int):
        rng = np.random.default_rng(seed)
        corpus = _corpus(seed)
        X = [rng.standard_normal((s.heads.size, 8)) for s in corpus]
        heads = [s.heads for s in corpus]
        probe = get_probe(name)(rank=3, max_iter=20, random_state=seed).fit(X, heads)
        return {"B": probe.B_.tolist(), **probe.evaluate(X, heads, [s.is_punct for s in corpus]).to_dict()}

    return run


def _identifiability(seed: int):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, 6)) for n in (4, 5, 6)]
    layer = [x + 0.5 * rng.standard_normal(x.shape) for x in inputs]
    return get_probe("token_identifiability")(inputs, layer).to_dict()


def _linear_identifiability(seed: int):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, 6)) for n in (4, 5, 6, 7)]
    layer = [x @ rng.standard_normal((6, 9)) for x in inputs]
    return get_probe("linear_token_identifiability")(
        inputs, layer, fit_idx=[0, 1], score_idx=[2, 3]
    ).to_dict()


def _rollout(seed: int):
    rng = np.random.default_rng(seed)
    acc = get_probe("rollout_self_share")(3)
    for n in (4, 6):
        acc.update(random_attention(3, 2, n, rng))
    return acc.result().to_dict()


def _curve(seed: int):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, 6)) for n in (4, 5, 6, 7)]
    layers = [[x + rng.standard_normal(x.shape) for x in inputs] for _ in range(2)]
    return get_probe("correspondence_curve")(inputs, layers, fit_idx=[0, 1], score_idx=[2, 3]).to_dict()


def _tree_control(name: str) -> Callable[[int], dict]:
    def run(seed: int):
        corpus = _corpus(seed)
        heads, punct = [s.heads for s in corpus], [s.is_punct for s in corpus]
        if name == "linear_chain_baseline":
            return get_probe(name)(heads, punct).to_dict()
        kwargs = {"seed": seed} if name == "random_tree_baseline" else {}
        return {"uuas": get_probe(name)(heads, punct, **kwargs)}

    return run


def _property_inference(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 6))
    Y = (X @ rng.standard_normal((6, 10)) > 0).astype(float)
    result = get_probe("property_inference")(
        X, Y, concepts=[f"c{i}" for i in range(40)], mapper="ridge", folds=4, n_shuffles=3, n_resamples=50, seed=seed
    )
    return result.to_dict()


def _mdl(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 5))
    y = (X[:, 0] > 0).astype(int)
    return get_probe("mdl_probe")(X, y, types=[f"t{i % 30}" for i in range(60)], seed=seed).to_dict()


CASES: dict[str, Callable[[int], dict]] = {
    "property_inference": _property_inference,
    "mdl_probe": _mdl,
    "head_relation_accuracy": _head_relation_accuracy,
    "attention_tree_uuas": _attention_tree_uuas,
    "distance_probe": _structural("distance_probe"),
    "depth_probe": _structural("depth_probe"),
    "token_identifiability": _identifiability,
    "linear_token_identifiability": _linear_identifiability,
    "rollout_self_share": _rollout,
    "correspondence_curve": _curve,
    "linear_chain_baseline": _tree_control("linear_chain_baseline"),
    "chain_tree_baseline": _tree_control("chain_tree_baseline"),
    "random_tree_baseline": _tree_control("random_tree_baseline"),
}


def test_every_registered_probe_has_a_test_case():
    assert sorted(CASES) == sorted(PROBES)


@pytest.mark.parametrize("name", sorted(PROBES))
def test_registry_entry_is_callable_and_described(name):
    entry = PROBES[name]
    assert get_probe(name) is entry.target
    assert callable(entry.target)
    assert entry.description and "\n" not in entry.description
    assert entry.kind in {"probe", "control"}
    assert entry.target.__doc__


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_gives_the_same_strict_json(name):
    first = json.dumps(CASES[name](seed=3), allow_nan=False, sort_keys=True)
    assert first == json.dumps(CASES[name](seed=3), allow_nan=False, sort_keys=True)


def test_public_surface_is_one_explicit_list():
    for name in probes.__all__:
        assert hasattr(probes, name), name
    for entry in PROBES.values():
        assert entry.target.__name__ in probes.__all__


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownProbeError, match="did you mean 'distance_probe'"):
        get_probe("distance_prob")
    with pytest.raises(UnknownProbeError, match="unknown probe .zzz.: no similar name. Known: "):
        get_probe("zzz")
