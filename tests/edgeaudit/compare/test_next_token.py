"""Next-token drift of decoders: KL, top-1 agreement, perplexity, shift-invariant cosine; read by the gates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from scipy.stats import entropy

from edgeaudit.bundle import load_bundle
from edgeaudit.compare.drift import numeric_drift
from edgeaudit.compare.next_token import NextTokenAgreement
from edgeaudit.gates import evaluate_gates, metric_values, parse_gate
from tests.edgeaudit.results.factories import compare_result

WORDS = np.array([-1, 0, 0, 1, 2, -1])  # a special token first and last: positions 0..3 predict word tokens


def agreement(reference: np.ndarray, variant: np.ndarray, ids: np.ndarray) -> dict:
    acc = NextTokenAgreement()
    acc.update(reference, variant, ids, WORDS)
    return acc.to_dict()


def test_a_shift_of_every_logit_changes_nothing_a_user_sees():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 50)) * 3
    result = agreement(logits, logits + 7.5, rng.integers(0, 50, 6))
    assert result["positions"] == 4  # the last word's next token is special: not scored
    assert result["kl_mean"] < 1e-12 and result["top1_agreement"] == 1.0
    assert result["perplexity_ratio"] == pytest.approx(1.0) and result["centred_cosine_mean"] == pytest.approx(1.0)


def test_kl_matches_scipy_and_perplexity_of_uniform_logits_is_the_vocabulary():
    rng = np.random.default_rng(1)
    reference, variant = rng.normal(size=(6, 30)), rng.normal(size=(6, 30))
    ids = rng.integers(0, 30, 6)
    result = agreement(reference, variant, ids)
    expected = [entropy(softmax(reference[t]), softmax(variant[t])) for t in range(4)]
    assert result["kl_mean"] == pytest.approx(np.mean(expected))
    assert result["kl_p99"] == pytest.approx(np.percentile(expected, 99))
    top1 = np.mean([reference[t].argmax() == variant[t].argmax() for t in range(4)])
    assert result["top1_agreement"] == pytest.approx(top1)
    uniform = agreement(np.zeros((6, 30)), reference, ids)
    assert uniform["perplexity"]["reference"] == pytest.approx(30.0)


def test_nothing_scored_gives_no_figures():
    acc = NextTokenAgreement()
    acc.update(np.zeros((2, 5)), np.zeros((2, 5)), np.array([1, 2]), np.array([0, -1]))
    assert acc.to_dict() is None


def test_paired_drift_of_a_decoder_reports_next_token_figures_and_gates_read_them(tiny_bundle, tmp_path):
    from edgeaudit.compress import compress
    from tests.edgeaudit.runtime.helpers import corpus_sentences

    decoder = tiny_bundle("gpt2")
    variant = compress(decoder, tmp_path / "int8", "int8-dynamic", progress=False, log=lambda m: None).bundle
    sentences = [type("S", (), {"sent_id": i, "words": w})() for i, w in corpus_sentences()]
    drift = numeric_drift(load_bundle(decoder), variant, sentences)
    figures = drift["next_token"]
    assert figures["positions"] > 20 and 0.0 <= figures["top1_agreement"] <= 1.0 and figures["kl_mean"] >= 0.0
    document = compare_result([], numeric_drift=drift)
    values = metric_values(document)
    assert values["top1_agreement"][0] == figures["top1_agreement"]
    [result] = evaluate_gates([parse_gate("next_token_kl>=0")], document)
    assert result.tripped
    encoder = numeric_drift(load_bundle(tiny_bundle("bert")), load_bundle(tiny_bundle("bert")), sentences)
    assert encoder["next_token"] is None
    assert "not next-token logits" in metric_values(compare_result([], numeric_drift=encoder))["top1_agreement"][1]
