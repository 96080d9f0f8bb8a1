"""Model sessions: a decoder's logits left out when nobody fetches them, and sessions that give memory back."""

from __future__ import annotations

import numpy as np
import pytest

from edgeaudit.bundle import load_bundle
from edgeaudit.runtime.session import ModelSession, map_large_blocks, release_freed_memory


def _batch() -> tuple[np.ndarray, np.ndarray]:
    ids = np.array([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]], dtype=np.int64)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=np.int64)
    return ids, mask


def test_a_decoder_session_without_logits_computes_the_same_taps(tiny_bundle):
    bundle = load_bundle(tiny_bundle("llama"))
    taps = [*bundle.manifest.attention_taps, *bundle.manifest.hidden_state_taps]
    assert bundle.manifest.final_output == "logits"
    full, pruned = ModelSession(bundle), ModelSession(bundle, fetches=taps)
    assert "logits" in full.output_names and "logits" not in pruned.output_names
    assert pruned.output_names == set(taps)
    ids, mask = _batch()
    want, got = full.run(ids, mask, taps), pruned.run(ids, mask, taps)
    for name in taps:
        np.testing.assert_array_equal(got[name], want[name])
    # the lm_head and everything else only the logits needed is gone from the graph onnxruntime runs
    assert len(pruned._session.get_outputs()) == len(taps)


def test_a_session_keeps_what_its_caller_fetches(tiny_bundle):
    decoder, encoder = load_bundle(tiny_bundle("llama")), load_bundle(tiny_bundle("bert"))
    with_logits = ModelSession(decoder, fetches=[decoder.manifest.attention_taps[0], "logits"])
    assert "logits" in with_logits.output_names
    encoder_session = ModelSession(encoder, fetches=encoder.manifest.hidden_state_taps)
    assert encoder.manifest.final_output in encoder_session.output_names  # only a decoder's logits are dropped


def test_a_closed_session_refuses_to_run(tiny_bundle):
    bundle = load_bundle(tiny_bundle("bert"))
    ids, mask = _batch()
    with ModelSession(bundle) as session:
        session.run(ids, mask, bundle.manifest.hidden_state_taps[:1])
    with pytest.raises(ValueError, match="after close"):
        session.run(ids, mask, bundle.manifest.hidden_state_taps[:1])
    release_freed_memory()  # callable at any time, on any C library


def test_large_blocks_are_mapped_on_glibc():
    import platform

    glibc = platform.libc_ver()[0] == "glibc"
    assert map_large_blocks() is glibc  # mallopt accepted the threshold, or nothing to set
