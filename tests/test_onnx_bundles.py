"""The torch-free tiny bundles behave like transformers: masked softmax attention, causal decoders, left padding."""

from __future__ import annotations

import numpy as np
import pytest

from edgeaudit.bundle import load_bundle
from edgeaudit.runtime.session import ModelSession
from tests.onnx_bundles import build_onnx_bundle


def _taps(bundle, ids, mask):
    names = [*bundle.manifest.attention_taps, *bundle.manifest.hidden_state_taps]
    return ModelSession(bundle).run(np.array(ids), np.array(mask), names)


@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
def test_attention_rows_are_distributions_that_skip_padding(family, tmp_path):
    bundle = load_bundle(build_onnx_bundle(family, tmp_path / family))
    left = bundle.manifest.tokenizer["padding_side"] == "left"
    ids = [[5, 6, 7, 8], [0, 0, 5, 6] if left else [5, 6, 0, 0]]
    mask = [[1, 1, 1, 1], [0, 0, 1, 1] if left else [1, 1, 0, 0]]
    out = _taps(bundle, ids, mask)
    attention = out["attention_1"]
    assert attention.shape == (2, bundle.manifest.num_heads, 4, 4)
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)
    padded = [0, 1] if left else [2, 3]
    assert np.all(attention[1][:, (slice(2, 4) if left else slice(0, 2))][..., padded] < 1e-6)
    assert out["hidden_state_2"].shape == (2, 4, bundle.manifest.hidden_size)


def test_decoders_attend_only_to_the_past_and_left_padding_keeps_positions(tmp_path):
    bundle = load_bundle(build_onnx_bundle("llama", tmp_path / "llama"))
    assert bundle.manifest.causal
    out = _taps(bundle, [[0, 0, 5, 6], [5, 6, 7, 8]], [[0, 0, 1, 1], [1, 1, 1, 1]])
    attention = out["attention_0"][1]
    assert np.all(np.triu(np.ones((4, 4)), k=1)[None] * attention < 1e-6)  # nothing above the diagonal
    # the left-padded sentence's words sit at positions 0, 1 like the unpadded one's first two words
    np.testing.assert_allclose(out["hidden_state_2"][0, 2:], out["hidden_state_2"][1, :2], atol=1e-5)


def test_a_twin_has_other_weights_and_the_same_tokenizer(tmp_path):
    real = load_bundle(build_onnx_bundle("bert", tmp_path / "real"))
    twin = load_bundle(build_onnx_bundle("bert", tmp_path / "twin", seed=3, variant="random-init"))
    assert twin.manifest.variant == "random-init"
    assert real.tokenizer_path.read_bytes() == twin.tokenizer_path.read_bytes()
    ids, mask = [[5, 6, 7]], [[1, 1, 1]]
    assert not np.allclose(_taps(real, ids, mask)["hidden_state_1"], _taps(twin, ids, mask)["hidden_state_1"])
