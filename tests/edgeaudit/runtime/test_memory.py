"""Peak memory of an extraction does not grow with the corpus (attention is never held for it)."""

from __future__ import annotations

import tracemalloc

from edgeaudit.bundle import load_bundle
from edgeaudit.runtime import SpecialTokenMass, extract
from tests.edgeaudit.runtime.helpers import corpus_sentences


def peak_bytes(bundle, sentences, directory) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        extract(bundle, sentences, collectors=[SpecialTokenMass()], store_dir=directory, shard_sentences=12,
                progress=False)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_peak_memory_is_flat_in_corpus_size(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle("bert"))
    peak_bytes(bundle, corpus_sentences(1), tmp_path / "warm")  # first-use allocations (session, caches)
    small = peak_bytes(bundle, corpus_sentences(4), tmp_path / "small")
    large = peak_bytes(bundle, corpus_sentences(32), tmp_path / "large")  # 8x the sentences
    assert large < 1.5 * small, (small, large)
