"""Numeric-drift arithmetic: Jensen-Shannon divergence of attention rows and streaming SQNR."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from edgeaudit.compare.drift import DriftAccumulator, attention_rows, drift_document, js_divergence


def test_js_divergence_matches_scipy_and_is_bounded():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(7), size=50), rng.dirichlet(np.ones(7), size=50)
    ours = js_divergence(p, q)
    theirs = np.array([jensenshannon(a, b, base=2) ** 2 for a, b in zip(p, q, strict=True)])
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert np.all(js_divergence(p, p) == 0)
    assert js_divergence(np.array([1.0, 0, 0]), np.array([0, 0, 1.0])) == pytest.approx(1.0)


def test_attention_rows_are_distributions_with_the_special_column():
    attention = np.full((2, 3, 4, 4), 0.2)  # [layer, head, word, word]: rows sum to 0.8
    special = np.full((2, 3, 4), 0.2)
    rows = attention_rows(attention, special)
    assert rows.shape == (2, 3, 4, 5)
    np.testing.assert_allclose(rows.sum(axis=-1), 1.0)


def test_sqnr_accumulates_over_sentences():
    acc = DriftAccumulator(num_layers=1, num_heads=1, hidden_layers=2)
    rng = np.random.default_rng(1)
    reference = [rng.normal(size=(2, n, 8)) for n in (3, 5)]  # [layer, word, hidden]
    noise = [np.stack([np.zeros((n, 8)), 0.01 * rng.normal(size=(n, 8))]) for n in (3, 5)]
    rows = np.full((1, 1, 3, 4), 0.25)
    for ref, eps in zip(reference, noise, strict=True):
        n = ref.shape[1]
        rows = np.full((1, 1, n, n + 1), 1.0 / (n + 1))
        acc.add_sentence(ref, ref + eps, rows, rows, ref[-1], ref[-1] + eps[-1], float(np.abs(eps[-1]).max()), n + 2)
    document = drift_document(acc, {}, 0.0)
    signal = sum(float((r[1] ** 2).sum()) for r in reference)
    error = sum(float((e[1] ** 2).sum()) for e in noise)
    assert document["layers"][0]["sqnr_db"] is None  # identical layer
    assert document["layers"][1]["sqnr_db"] == pytest.approx(10 * math.log10(signal / error))
    assert document["worst_sqnr_layer"] == 1 and document["words"] == 8 and document["sentences"] == 2
    assert document["attention_jsd"] == [[0.0]]
    assert 0.999 < document["output_cosine"]["min"] <= document["output_cosine"]["mean"] < 1.0
